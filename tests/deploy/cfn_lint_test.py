"""cfn-lint over aws/cloudformation/sagemaker.yaml, when cfn-lint is on PATH.

cfn-lint is not a Debian package, so the suite does not depend on it: without it this test exits
77 (ctest: skipped) and cloudformation_test.py still checks the template's security properties.
"""
import os
import shutil
import subprocess
import sys

import cfn_template

if __name__ == "__main__":
    cfn_lint = shutil.which("cfn-lint")
    if cfn_lint is None:
        print("cfn-lint not on PATH: skipped (not a Debian package; pip install cfn-lint)")
        sys.exit(77)
    version = subprocess.run([cfn_lint, "--version"], capture_output=True, text=True,
                             check=False).stdout.strip()
    result = subprocess.run([cfn_lint, cfn_template.TEMPLATE], capture_output=True, text=True,
                            check=False)
    # Exit codes: 0 clean, 8 informational only; errors (2), warnings (4), a crash (1) fail.
    print(result.stdout + result.stderr, end="")
    verdict = "clean" if result.returncode == 0 else f"exit {result.returncode}"
    print(f"{version}: {os.path.relpath(cfn_template.TEMPLATE, cfn_template.SOURCE_DIR)}: {verdict}")
    sys.exit(0 if result.returncode in (0, 8) else 1)
