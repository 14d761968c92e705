"""shellcheck over every shell script in the repository (aws/, scripts/, tests/, .ci/run, ...).

A script is any file ending in .sh or starting with a sh/bash shebang, outside build trees, run
outputs and .git. Exits 77 (ctest: skipped) when shellcheck is not installed
(scripts/install-deps.sh --test installs it).
"""
import os
import re
import shutil
import subprocess
import sys
import unittest

SOURCE_DIR = os.environ.get("RLPIPE_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
SKIPPED_DIRS = re.compile(r"^(\.git|build.*|.*_output|node_modules|__pycache__)$")
SHELL_SHEBANG = re.compile(rb"^#!\s*(/usr/bin/env\s+(-S\s+)?)?(/usr)?(/bin/)?(ba|da|k)?sh\b")
# The scripts this change relies on: discovery finding fewer is itself a failure.
EXPECTED = {"aws/deploy_sagemaker.sh", "aws/push-image.sh", "scripts/install-deps.sh", ".ci/run"}


def shell_scripts(root):
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs
                         if not (folder == root and SKIPPED_DIRS.match(d)) and d != ".git")
        for name in sorted(files):
            path = os.path.join(folder, name)
            if os.path.islink(path):
                continue
            if name.endswith(".sh"):
                found.append(path)
                continue
            with open(path, "rb") as f:
                if SHELL_SHEBANG.match(f.readline()):
                    found.append(path)
    return [os.path.relpath(p, root) for p in found]


class ShellcheckTest(unittest.TestCase):
    def test_discovery_finds_the_known_scripts(self):
        found = set(shell_scripts(SOURCE_DIR))
        self.assertTrue(EXPECTED <= found, f"missing {sorted(EXPECTED - found)}")
        self.assertFalse([p for p in found if p.startswith("tests/deploy/fakes/")],
                         "the fakes are python, not shell")

    def test_every_shell_script_is_shellcheck_clean(self):
        scripts = shell_scripts(SOURCE_DIR)
        result = subprocess.run(["shellcheck", "--external-sources", *scripts], cwd=SOURCE_DIR,
                                capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        print(f"shellcheck: {len(scripts)} scripts clean: {' '.join(scripts)}")

    def test_shellcheck_flags_a_bad_script(self):
        # The check can fail: an unquoted expansion is reported.
        result = subprocess.run(["shellcheck", "-"], input="#!/bin/bash\nrm $1\n",
                                capture_output=True, text=True, check=False)
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("SC2086", result.stdout)


if __name__ == "__main__":
    if shutil.which("shellcheck") is None:
        print("shellcheck not installed (scripts/install-deps.sh --test): skipped")
        sys.exit(77)
    unittest.main(verbosity=2)
