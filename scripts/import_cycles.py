"""Count import cycles among carepath's modules (strongly connected components of the graph).

    python scripts/import_cycles.py            # runtime imports (TYPE_CHECKING blocks left out)
    python scripts/import_cycles.py --typing   # type-only imports counted too

Prints the number of modules caught in a cycle and each cycle's members; exits 1 if any.
"""

from __future__ import annotations

import argparse
import sys

import grimp
import networkx as nx


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--typing", action="store_true", help="count TYPE_CHECKING imports too")
    args = parser.parse_args()
    graph = grimp.build_graph("carepath", exclude_type_checking_imports=not args.typing)
    g = nx.DiGraph()
    for module in graph.modules:
        g.add_node(module)
        for imported in graph.find_modules_directly_imported_by(module):
            g.add_edge(module, imported)
    # A package imports its __init__'s names; a child's import of its own package is the
    # package's body, which runs first, so parent -> child edges are not cycles of concern
    # unless the package also imports the child at module level: grimp records both.
    cycles = [sorted(c) for c in nx.strongly_connected_components(g) if len(c) > 1]
    n = sum(len(c) for c in cycles)
    kind = "runtime and type-only" if args.typing else "runtime"
    print(f"{n} modules in {len(cycles)} import cycle(s) ({kind} imports)")
    for c in cycles:
        print("  " + " <-> ".join(c))
    return 1 if cycles else 0


if __name__ == "__main__":
    sys.exit(main())
