"""No two modules of the portal import each other, directly or round a circle (issue 13, item 5)."""

from __future__ import annotations

import time

from medicen_portal.import_cycles import cycles, import_graph


def test_no_module_of_the_portal_is_part_of_an_import_cycle():
    started = time.perf_counter()

    found = cycles(import_graph())

    assert found == []
    assert time.perf_counter() - started < 2  # cheap enough for `make lint`


def test_members_names_das_nowhere_but_in_its_migrations():
    graph = import_graph()

    assert not {target for module, targets in graph.items() if module.startswith("members") for target in targets} & {
        module for module in graph if module.startswith("das")
    }


def _write(root, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_circle_through_three_modules_is_found_once_even_through_deferred_and_relative_imports(tmp_path):
    _write(
        tmp_path,
        {
            "shop/__init__.py": "",
            "shop/a.py": "from shop import b\n",
            "shop/b.py": "def f():\n    from .c import g  # deferred: still a dependency\n",
            "shop/c.py": "import shop.a\n",
            "shop/d.py": "from shop.a import anything\n",  # into the circle, not part of it
            "shop/tests/test_x.py": "from shop import d\nimport shop.tests.test_x\n",  # tests are left out
        },
    )

    graph = import_graph(tmp_path, ["shop"])

    assert graph["shop.b"] == {"shop.c"}
    assert cycles(graph) == [["shop.a", "shop.b", "shop.c"]]


def test_a_graph_without_a_circle_has_no_cycle(tmp_path):
    _write(tmp_path, {"shop/__init__.py": "", "shop/a.py": "from shop import b\n", "shop/b.py": "import os\n"})

    assert cycles(import_graph(tmp_path, ["shop"])) == []
