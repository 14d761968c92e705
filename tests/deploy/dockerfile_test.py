"""Static checks of docker/Dockerfile, .dockerignore and scripts/install-deps.sh --runtime.

No Docker daemon is needed (none runs in CI): the Dockerfile is parsed, .dockerignore is matched
the way Docker matches it, and the runtime package list is checked against the shared libraries
the built rlpipe binary (RLPIPE_BINARY) actually needs.
"""
import json
import os
import re
import shlex
import subprocess
import unittest

SOURCE_DIR = os.environ.get("RLPIPE_SOURCE_DIR",
                            os.path.dirname(os.path.dirname(os.path.dirname(
                                os.path.abspath(__file__)))))
RLPIPE_BINARY = os.environ.get("RLPIPE_BINARY", os.path.join(SOURCE_DIR, "build/apps/rlpipe"))
DEBIAN_12 = re.compile(r"^(docker\.io/)?(library/)?debian:(12|bookworm)([-.][\w.-]*)?(@sha256:[0-9a-f]{64})?$")
# Shared libraries every debian:12 image already has.
BASE_IMAGE_PACKAGES = {"libc6", "libgcc-s1", "libstdc++6"}


def parse_dockerfile(path):
    """[(stage_name, [(INSTRUCTION, args), ...]), ...], continuation lines joined."""
    with open(path, encoding="utf-8") as f:
        text = f.read()
    logical, current = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        if stripped.endswith("\\"):
            current += stripped[:-1] + " "
            continue
        logical.append(current + stripped)
        current = ""
    stages = []
    for line in logical:
        instruction, _, args = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            words = args.split()
            name = words[2] if len(words) >= 3 and words[1].upper() == "AS" else str(len(stages))
            stages.append((name, [("FROM", args)]))
        elif stages:
            stages[-1][1].append((instruction, args))
        elif instruction != "ARG":
            raise AssertionError(f"{instruction} before the first FROM")
    return stages


def dockerignore_patterns(path):
    patterns = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#"):
                patterns.append(line)
    return patterns


def _pattern_regex(pattern):
    """Docker's .dockerignore pattern (Go filepath.Match plus **) as a regex."""
    pattern = os.path.normpath(pattern.lstrip("/"))
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out += "(.*/)?"
            i += 3
        elif pattern.startswith("**", i):
            out += ".*"
            i += 2
        elif pattern[i] == "*":
            out += "[^/]*"
            i += 1
        elif pattern[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(pattern[i])
            i += 1
    return re.compile(out + "$")


def is_ignored(patterns, path):
    """True when Docker leaves `path` (relative to the context) out of the build context: the last
    matching pattern wins ('!' re-includes), and a pattern matching a parent folder covers it."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = _pattern_regex(pattern[1:] if negate else pattern)
        if any(regex.match(p) for p in prefixes):
            ignored = not negate
    return ignored


def runtime_packages():
    """The runtime_pkgs=( ... ) array of scripts/install-deps.sh, comments stripped."""
    with open(os.path.join(SOURCE_DIR, "scripts/install-deps.sh"), encoding="utf-8") as f:
        text = f.read()
    match = re.search(r"^runtime_pkgs=\((.*?)^\)", text, re.S | re.M)
    assert match, "no runtime_pkgs=( ... ) in scripts/install-deps.sh"
    words = []
    for line in match.group(1).splitlines():
        words += line.split("#", 1)[0].split()
    return set(words)


def owning_packages(paths):
    """{path: Debian package shipping it} for library files, from one `dpkg -S` call. With merged
    /usr, dpkg may record a file under /lib or /usr/lib, as the link ldd names or its target."""
    candidates = {}
    for path in paths:
        for candidate in (path, os.path.realpath(path)):
            alternative = (candidate[len("/usr"):] if candidate.startswith("/usr/lib/")
                           else "/usr" + candidate if candidate.startswith("/lib/") else None)
            for name in (candidate, alternative):
                if name:
                    candidates.setdefault(name, path)
    # Exit status 1 when some candidate is unknown to dpkg: expected, the others are listed.
    listing = subprocess.run(["dpkg", "-S", *candidates], capture_output=True, text=True,
                             check=False).stdout
    owners = {}
    for line in listing.splitlines():
        package, _, file = line.partition(": ")
        if file in candidates:
            owners.setdefault(candidates[file], package.split(":")[0])
    return owners


class DockerfileTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stages = parse_dockerfile(os.path.join(SOURCE_DIR, "docker/Dockerfile"))

    def runs(self, stage):
        return [args for instruction, args in stage[1] if instruction == "RUN"]

    def test_multi_stage_on_debian_12(self):
        self.assertGreaterEqual(len(self.stages), 2)
        for name, instructions in self.stages:
            image = instructions[0][1].split()[0]
            self.assertRegex(image, DEBIAN_12, f"stage {name}")

    def test_builder_installs_deps_and_builds_rlpipe(self):
        builder = self.stages[0]
        runs = " ; ".join(self.runs(builder))
        self.assertRegex(runs, r"scripts/install-deps\.sh(\s|&|;|$)")
        self.assertNotIn("--runtime", runs)
        self.assertRegex(runs, r"-DCMAKE_BUILD_TYPE=(Release|RelWithDebInfo)\b")
        self.assertRegex(runs, r"--target rlpipe\b")

    def test_final_stage_installs_runtime_packages_only(self):
        final = self.stages[-1]
        runs = " ; ".join(self.runs(final))
        self.assertRegex(runs, r"install-deps\.sh --runtime\b")
        self.assertNotIn("install-deps.sh --test", runs)
        self.assertNotRegex(runs, r"cmake|ninja|apt-get install")
        copies = [args for instruction, args in final[1] if instruction == "COPY"]
        builder_name = self.stages[0][0]
        self.assertTrue([c for c in copies
                         if c.startswith(f"--from={builder_name} ") and "rlpipe" in c], copies)

    def test_final_stage_runs_as_a_non_root_user(self):
        final = self.stages[-1]
        users = [args for instruction, args in final[1] if instruction == "USER"]
        self.assertTrue(users, "no USER in the final stage (it would run as root)")
        user = users[-1].split(":")[0]
        self.assertNotIn(user, {"root", "0"})
        runs = " ; ".join(self.runs(final))
        self.assertRegex(runs, rf"useradd\b[^;&]*\b{re.escape(user)}\b")
        # /opt/ml (SageMaker's input, model, output and checkpoint folders) belongs to that user.
        self.assertRegex(runs, rf"chown -R {re.escape(user)}(:\S+)? /opt/ml\b")
        self.assertTrue([a for i, a in final[1] if i == "WORKDIR"], "no WORKDIR")
        # USER comes after every RUN that needs root.
        last_user = max(n for n, (i, _) in enumerate(final[1]) if i == "USER")
        last_run = max(n for n, (i, _) in enumerate(final[1]) if i == "RUN")
        self.assertGreater(last_user, last_run)

    def test_entrypoint_is_exec_form_rlpipe(self):
        final = self.stages[-1]
        entrypoints = [args for instruction, args in final[1] if instruction == "ENTRYPOINT"]
        self.assertEqual(len(entrypoints), 1)
        value = json.loads(entrypoints[0])  # exec form is a JSON array; shell form is not JSON
        self.assertIsInstance(value, list)
        self.assertEqual(value, ["/usr/local/bin/rlpipe"])

    def test_copied_sources_exist_and_are_in_the_context(self):
        patterns = dockerignore_patterns(os.path.join(SOURCE_DIR, ".dockerignore"))
        for _, instructions in self.stages:
            for instruction, args in instructions:
                if instruction != "COPY" or args.startswith("--from"):
                    continue
                for source in shlex.split(args)[:-1]:
                    source = source.rstrip("/")
                    if source == ".":
                        continue
                    self.assertTrue(os.path.exists(os.path.join(SOURCE_DIR, source)), source)
                    self.assertFalse(is_ignored(patterns, source), f"{source} is .dockerignored")


class DockerignoreTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.patterns = dockerignore_patterns(os.path.join(SOURCE_DIR, ".dockerignore"))

    def test_secrets_outputs_and_git_are_excluded(self):
        for path in (".git", ".git/config", "build", "build/apps/rlpipe", "build-lead/x.o",
                     "demo_output/pipeline_state.json", "pipeline_output/pipeline.log",
                     "my_run_output/x", ".aws", ".aws/credentials", "configs/.aws/config",
                     "key.pem", "certs/server.pem", ".env", "docker/.env", "credentials",
                     "aws/credentials", "aws-config.yaml"):
            self.assertTrue(is_ignored(self.patterns, path), f"{path} would enter the image")

    def test_sources_stay_in_the_context(self):
        checked = 0
        for top in ("src", "apps", "cmake", "configs", "scripts", "docker"):
            for folder, _, files in os.walk(os.path.join(SOURCE_DIR, top)):
                for name in files:
                    path = os.path.relpath(os.path.join(folder, name), SOURCE_DIR)
                    self.assertFalse(is_ignored(self.patterns, path), f"{path} is .dockerignored")
                    checked += 1
        for path in ("CMakeLists.txt", "src/core/error.h"):
            self.assertFalse(is_ignored(self.patterns, path), path)
        self.assertGreater(checked, 50)

    def test_matcher_follows_docker_rules(self):
        self.assertTrue(is_ignored(["**/*.pem"], "a/b/c.pem"))
        self.assertTrue(is_ignored(["**/*.pem"], "c.pem"))
        self.assertFalse(is_ignored(["*.pem"], "a/c.pem"))
        self.assertTrue(is_ignored(["build*"], "build-x/y/z"))
        self.assertFalse(is_ignored(["build*", "!build-keep"], "build-keep/file"))
        self.assertFalse(is_ignored(["build*"], "src/build.cc"))


class RuntimePackagesTest(unittest.TestCase):
    def test_unknown_argument_is_a_one_line_error(self):
        result = subprocess.run(["bash", os.path.join(SOURCE_DIR, "scripts/install-deps.sh"),
                                 "--runtme"], capture_output=True, text=True, check=False)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(len(result.stderr.strip().splitlines()), 1, result.stderr)
        self.assertIn("--runtme", result.stderr)

    def test_runtime_packages_provide_every_library_rlpipe_needs(self):
        self.assertTrue(os.access(RLPIPE_BINARY, os.X_OK), f"not built: {RLPIPE_BINARY}")
        packages = runtime_packages()
        self.assertIn("libopenblas0-pthread", packages)  # LibTorch is ~3x slower on reference BLAS
        self.assertIn("ca-certificates", packages)  # libcurl verifies S3's certificate
        elf = subprocess.run(["readelf", "-d", RLPIPE_BINARY], capture_output=True, text=True,
                             check=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", elf)
        self.assertIn("libtorch_cpu.so.1.13", needed)
        # Where each NEEDED library resolves to (ldd), and which Debian package ships that file.
        ldd = subprocess.run(["ldd", RLPIPE_BINARY], capture_output=True, text=True,
                             check=True).stdout
        resolved = dict(re.findall(r"^\s*(\S+) => (/\S+)", ldd, re.M))
        for soname in needed:
            self.assertIn(soname, resolved, f"{soname} does not resolve here")
        owners = owning_packages(resolved[soname] for soname in needed)
        for soname in needed:
            package = owners.get(resolved[soname])
            self.assertTrue(package, f"{soname} ({resolved[soname]}) is not from a package")
            self.assertIn(package, packages | BASE_IMAGE_PACKAGES,
                          f"{soname} comes from {package}, missing from install-deps.sh --runtime")


if __name__ == "__main__":
    unittest.main(verbosity=2)
