"""The scripts, imported, in the course's order (their names: plumbing.SCRIPTS).

    from tools.versions import VERSIONS, BY_VERSION
    VERSIONS[0]          # the module babygpt_v1_bigram
    BY_VERSION["v4"]     # the module babygpt_v4_multihead_attention
"""

import importlib

import plumbing

VERSIONS = [importlib.import_module(name) for name in plumbing.SCRIPTS.values()]
BY_VERSION = {module.VERSION: module for module in VERSIONS}
