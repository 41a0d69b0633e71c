"""A reader's own cells, typed into one kernel after `in-1` and `let rt`: untyped `let`s of
std, tokio and crate types that persist across cells, Tab completion of std's and tokio's
items, a top-level `.await` (the original's `await main()`) with the tasks it spawns, its
interrupt and its panics, and types no one can name.

The tests share one kernel and run in file order; how long each cell takes is `make bench`'s
business (docs/speed.md), not theirs."""
import subprocess
import time

import pytest

from helpers import PANIC, Kernel, cpython_makerandom, load, tagged_cells

# The notebook's runtime, as its third code cell makes it.
LET_RT = 'let rt: Runtime = Runtime::new().expect("start the event loop");'


@pytest.fixture(scope="module")
def kernel():
    kernel = Kernel()
    cells = tagged_cells(load())
    kernel.run_clean(cells["in-1"].source)
    kernel.run_clean(LET_RT)
    kernel.cells = cells
    yield kernel
    kernel.close()


def value(kernel, expression):
    """What a cell that ends in `expression` shows (its text/plain)."""
    run = kernel.run_clean(expression)
    [shown] = run.results
    return shown


def complete(kernel, code):
    """Jupyter's Tab at the end of `code`: the matches the kernel offers."""
    kernel.client.complete(code, len(code))
    reply = kernel.client.get_shell_msg(timeout=120)
    assert reply["content"]["status"] == "ok", reply["content"]
    return reply["content"]["matches"]


def test_untyped_lets_of_std_tokio_and_crate_types_persist_across_cells(kernel):
    # Each in a cell of its own, the first right after `let rt`, as a reader types them.
    for cell in [
        "let n = 5;",
        "let v = vec![1, 2, 3];",
        'let s = String::from("hello");',
        "let x = rt.run(async { 41 + 1 });",
        "let h = rt.spawn(async { 7 });",
        "let doubled = v.iter().map(|x| x * 2).collect::<Vec<_>>();",
        "let ages = std::collections::HashMap::from([(1, 30), (2, 40)]);",
        "let (ratio, label) = (2.5, s.to_uppercase());",
        "let dice = asyncio_rs::random::SharedRandom::new(444);",
        "let mut total = 0u64;",
    ]:
        kernel.run_clean(cell)
    assert value(kernel, "rt.run(async move { h.await.unwrap() })") == "7"
    assert value(kernel, "(n, v.len(), s.len(), x)") == "(5, 3, 5, 42)"
    assert value(kernel, "doubled") == "[2, 4, 6]"
    assert value(kernel, "ages[&2] + ages[&1]") == "70"
    assert value(kernel, "(ratio, label.clone())") == '(2.5, "HELLO")'
    kernel.run_clean("total += 3; total += 4;")
    assert value(kernel, "total") == "7"
    # The crate's own generator, against CPython's for the same seed.
    drawn = value(kernel, "(0..5).map(|_| dice.randint(0, 10)).collect::<Vec<i64>>()")
    cpython = subprocess.run(
        ["python3", "-c", "import random; random.seed(444); "
         "print([random.randint(0, 10) for _ in range(5)])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()
    assert drawn == cpython


def test_tab_completes_std_and_tokio_items(kernel):
    kernel.run_clean("let w: Vec<u32> = vec![];")
    methods = complete(kernel, "w.")
    assert {"len()", "push(value)", "iter()"} <= set(methods), methods[:20]
    assert len(methods) > 100
    assert "from_utf8(vec)" in complete(kernel, "String::fr")
    assert "sleep(duration)" in complete(kernel, "tokio::time::sl")
    assert "spawn(future)" in complete(kernel, "rt.sp")


def test_a_top_level_await_is_the_originals_await_main(kernel):
    for tag in ["in-5", "in-6", "in-7", "in-8", "in-9"]:
        kernel.run_clean(kernel.cells[tag].source)
    run = kernel.run_clean(
        "let [r1, r2, r3]: [i64; 3] = main(random.clone(), c).await?;\n"
        "println!();\n"
        'println!("r1: {r1}, r2: {r2}, r3: {r3}");'
    )
    assert run.stdout == cpython_makerandom("--seed", "444")
    assert run.stdout.endswith("r1: 10, r2: 10, r3: 9\n")
    assert value(kernel, "r1 + r2 + r3") == "29"


def test_tasks_spawned_at_the_top_level_run_in_every_cell(kernel):
    for round in range(3):
        run = kernel.run_clean(
            f"let got = tokio::spawn(async {{ tokio::time::sleep(Duration::from_millis(5)).await; "
            f"{round} }}).await.unwrap();\nprintln!(\"{{got}}\");"
        )
        assert run.stdout == f"{round}\n"
    # A task of `rt`, made in another cell, awaited at the top level.
    kernel.run_clean("let later = rt.spawn(async { 99 });")
    assert value(kernel, "later.await.unwrap()") == "99"


def test_an_interrupted_top_level_await_keeps_the_variables(kernel):
    run = kernel.run(
        'println!("sleeping");\ntokio::time::sleep(Duration::from_secs(3600)).await;\nprintln!("woke");',
        presses=[("sleeping", 0.5)],
    )
    assert run.stdout == "sleeping\nKeyboardInterrupt\n", run.stdout
    assert run.ended - run.pressed[0] < 2, run.ended - run.pressed[0]
    assert value(kernel, "(x, doubled.len())") == "(42, 3)"


def test_a_panic_in_a_task_is_the_cells_and_stops_it(kernel):
    started = time.monotonic()
    run = kernel.run(
        'tokio::spawn(async { panic!("boom in a task") });\n'
        "tokio::time::sleep(Duration::from_secs(3600)).await;\n"
        'println!("not reached");'
    )
    assert time.monotonic() - started < 30
    assert "boom in a task" in run.stderr and PANIC.search(run.stderr), run.stderr
    assert "not reached" not in run.stdout
    after = kernel.run_clean('println!("next");')
    assert after.stdout == "next\n" and "boom" not in after.stderr
    assert value(kernel, "x") == "42"


@pytest.mark.parametrize(
    "cell, says",
    [
        ("let f = |a: i32| a + 1;", "is a closure, which cannot be persisted"),
        ("let fut = async { 5 };", "which cannot be persisted"),
    ],
)
def test_a_type_no_one_can_name_gets_evcxrs_message_and_the_way_out(kernel, cell, says):
    run = kernel.run(cell)
    assert run.status == "error"
    [error] = run.errors
    assert says in error and "wrapping your code in braces" in error, error
    # The way out it names works, and the kernel and its variables are still there.
    kernel.run_clean("{ " + cell + ' println!("in braces"); }')
    assert value(kernel, "x") == "42"
