"""Reads the JMH JSON of arena-tools/bin/bench-suite: shared by bench-report and bench-plot (stdlib only).

A JMH result file is a JSON array of runs; each run has "benchmark" (class.method), "params" ({"impl",
"size"}), "primaryMetric" and "secondaryMetrics" (e.g. "gc.alloc.rate.norm" from -prof gc, "consume"
of a @Group, the @AuxCounters, perfnorm's "instructions"). Errors are NaN (as the string "NaN") when a
run has too few iterations.
"""

import json
import math

PACKAGE = "io.github.pymalloc4j.bench."

# The adapters in the order of SlotAllocator.NAMES; an unknown one is shown after them.
IMPLS = ["pymalloc4j", "pymalloc4j-heap", "pymalloc4j-segment", "malloc", "malloc-critical", "arena-confined", "netty", "floor"]
BASELINE = "malloc"
SIZES = ["16", "64", "256", "512", "mix"]

# Single-thread workloads: (benchmark, short name, title, what one operation is).
SINGLE_THREAD = [
    ("PairBench.pair", "pair", "pair",
     "one allocation immediately followed by its free"),
    ("BatchBench.batch", "batch", "batch (N = 1000, shuffled free order)",
     "one block of a batch: allocate 1000, then free them in a seeded shuffled order"),
    ("ChurnBench.churn", "churn", "churn (100 000 live blocks)",
     "free a random one of 100 000 live blocks and allocate its replacement"),
    ("GlibcSimpleBench.glibcSimple", "glibc-simple", "glibc-simple (n = 1000)",
     "one block of glibc's bench-malloc-simple: allocate 1000 blocks writing every byte, "
     "free the first half FIFO and the second half LIFO"),
]

# Multi-threaded rows: (benchmark, secondary metric or None, label, threads).
MULTI_THREAD = [
    ("LarsonBench.larson1", None, "larson, 1 thread", "1"),
    ("LarsonBench.larson2", None, "larson, 2 threads", "2"),
    ("ProducerConsumerBench.xmalloc", "consume", "producer/consumer (blocks freed)", "1 + 1"),
    ("CacheScratchBench.scratch1", None, "cache-scratch, 1 thread", "1"),
    ("CacheScratchBench.scratch2", None, "cache-scratch, 2 threads", "2"),
]

# Why an adapter has no result in a multi-threaded benchmark (see the benchmarks' javadoc).
NOT_RUN = {
    ("ProducerConsumerBench", "arena-confined"):
        "a confined arena cannot be closed by another thread",
    ("CacheScratchBench", "arena-confined"):
        "a confined arena cannot be closed by another thread",
    ("LarsonBench", "floor"): "the floor is single-threaded, without synchronisation",
    ("LarsonBench", "pymalloc4j-heap"): "a thread heap serves the thread that took it; larson's threads use the plain API",
    ("ProducerConsumerBench", "pymalloc4j-heap"): "a thread heap serves the thread that took it",
    ("CacheScratchBench", "pymalloc4j-heap"): "a thread heap serves the thread that took it",
    ("ProducerConsumerBench", "floor"): "the floor is single-threaded, without synchronisation",
    ("CacheScratchBench", "floor"): "the floor is single-threaded, without synchronisation",
}

# perfnorm counters shown when present.
PERF_COUNTERS = ["instructions", "cycles"]


def number(value):
    """A JMH number: a float, or NaN for the string "NaN"."""
    if value is None:
        return math.nan
    if isinstance(value, str):
        return float(value)  # "NaN", "Infinity"
    return float(value)


class Result:
    """One JMH run: benchmark, impl, size, and a (score, error) for each metric."""

    def __init__(self, run):
        name = run["benchmark"]
        self.benchmark = name[len(PACKAGE):] if name.startswith(PACKAGE) else name
        self.bench_class = self.benchmark.split(".")[0]
        params = run.get("params") or {}
        self.impl = params.get("impl", "")
        self.size = params.get("size", "")
        self.threads = run.get("threads")
        self.jmh_version = run.get("jmhVersion")
        self.mode = run.get("mode")
        primary = run["primaryMetric"]
        self.unit = primary.get("scoreUnit", "")
        self.metrics = {None: (number(primary["score"]), number(primary["scoreError"]))}
        self.units = {None: self.unit}
        self.raw = {None: primary.get("rawData")}
        for key, metric in (run.get("secondaryMetrics") or {}).items():
            self.metrics[key] = (number(metric["score"]), number(metric["scoreError"]))
            self.units[key] = metric.get("scoreUnit", "")
            self.raw[key] = metric.get("rawData")

    def score(self, metric=None):
        """(score, error) of a metric, or None."""
        return self.metrics.get(metric)


def load(paths):
    """All runs of the given JMH JSON files, as Result objects."""
    results = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            for run in json.load(f):
                results.append(Result(run))
    return results


def merge(out_path, paths):
    """Writes the runs of the given JMH JSON files as one JSON array to out_path."""
    runs = []
    for path in paths:
        with open(path, encoding="utf-8") as f:
            runs.extend(json.load(f))
    with open(out_path, "w", encoding="utf-8") as f:
        json.dump(runs, f, indent=2)
        f.write("\n")


def impls_of(results):
    """The adapters present, in IMPLS order, unknown ones after."""
    present = {r.impl for r in results}
    ordered = [i for i in IMPLS if i in present]
    return ordered + sorted(present - set(ordered))


def sizes_of(results):
    """The sizes present, in SIZES order, unknown ones after."""
    present = {r.size for r in results if r.size}
    ordered = [s for s in SIZES if s in present]
    return ordered + sorted(present - set(ordered))


def index(results):
    """{(benchmark, impl, size): Result}."""
    return {(r.benchmark, r.impl, r.size): r for r in results}
