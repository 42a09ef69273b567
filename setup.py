"""Package discovery for nemogym's layout.

The top-level folders envs/, verifiers/, trainers/ and sandboxes/ ship as subpackages of
``nemogym`` (the PyPI name ``verifiers`` belongs to another project, so nothing may be
importable as a bare ``verifiers`` or ``envs``). setuptools' ``packages.find`` cannot rename
folders, so this file maps them; everything else lives in pyproject.toml.
"""

from setuptools import find_packages, setup

MAPPED = {"envs": "nemogym.envs", "verifiers": "nemogym.verifiers",
          "trainers": "nemogym.trainers", "sandboxes": "nemogym.sandboxes"}

packages = ["nemogym"] + [f"nemogym.{p}" for p in find_packages("nemogym")]
package_dir = {"nemogym": "nemogym"}
for folder, name in MAPPED.items():
    package_dir[name] = folder
    packages.append(name)
    for sub in find_packages(folder):
        packages.append(f"{name}.{sub}")
        package_dir[f"{name}.{sub}"] = f"{folder}/{sub.replace('.', '/')}"

setup(packages=packages, package_dir=package_dir)
