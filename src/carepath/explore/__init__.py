"""Exploring pathways: paths, diagrams, notebook display and plots (extra ``viz`` for plots).

Importing this package imports neither networkx nor any plotting library; each
function imports what it needs when called.

>>> from carepath import explore, standard_pathway
>>> p = standard_pathway()
>>> len(explore.paths(p, "inpatient", "completed", events={"step_down", "complete"}))
16
"""

from carepath import _display

from ._common import OKABE_ITO as OKABE_ITO
from ._common import ExploreError as ExploreError
from ._common import Stay as Stay
from ._common import episode_stays as episode_stays
from ._common import level_colour as level_colour
from ._diagrams import to_graphviz as to_graphviz
from ._diagrams import to_mermaid as to_mermaid
from ._export import to_png as to_png
from ._export import to_svg as to_svg
from ._html import episode_html, pathway_html, placement_html
from ._html import result_html as result_html
from ._paths import DEFAULT_START as DEFAULT_START
from ._paths import Scenario as Scenario
from ._paths import Step as Step
from ._paths import paths as paths
from ._paths import scenario_for as scenario_for
from ._paths import scenarios as scenarios
from ._paths import shortest_path as shortest_path
from ._paths import test_paths as test_paths
from ._paths import to_networkx as to_networkx
from ._plots import SimulationTables as SimulationTables
from ._plots import length_of_stay as length_of_stay
from ._plots import occupancy as occupancy
from ._plots import sankey as sankey
from ._plots import timeline as timeline


def _register_display() -> None:
    """Register the notebook display of pathways, episodes, placements and results.

    Run when this package is imported; found as the ``carepath.display`` plug-in when a
    value is shown before anything imported it.
    """
    _display.register_html("pathway", pathway_html)
    _display.register_html("episode", episode_html)
    _display.register_html("placement", placement_html)
    _display.register_html("result", result_html)


_register_display()

__all__ = [
    "DEFAULT_START",
    "OKABE_ITO",
    "ExploreError",
    "Scenario",
    "SimulationTables",
    "Stay",
    "Step",
    "episode_stays",
    "length_of_stay",
    "level_colour",
    "occupancy",
    "paths",
    "result_html",
    "sankey",
    "scenario_for",
    "scenarios",
    "shortest_path",
    "test_paths",
    "timeline",
    "to_graphviz",
    "to_mermaid",
    "to_networkx",
    "to_png",
    "to_svg",
]
