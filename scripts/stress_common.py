"""What the stress tests share: `make stress` (scripts/stress.py, through the in-process host)
and `make stress-triton` (scripts/stress_triton.py, in the real tritonserver).

A process's RSS from /proc, the growth of a sampled figure over the second half of a run, and
the verdict line both print last:
`sent S, answered A, identical I of G good, crashes C, growth X%`.
"""


def rss_kib(pid):
    """VmRSS of pid in KiB from /proc/<pid>/status, or None when it cannot be read."""
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def growth_of(values, floor=False):
    """Growth in % over the second half of a run of evenly spaced samples: the last tenth against
    the middle tenth (their means, or with floor=True their minimums: for a sawtooth such as a
    garbage-collected heap, whose floor is what leaks). NaN when there are too few samples."""
    n = len(values)
    if n < 4:
        return float("nan")
    mid = values[int(n * 0.45):int(n * 0.55) + 1]
    end = values[int(n * 0.9):]
    a, b = (min(mid), min(end)) if floor else (sum(mid) / len(mid), sum(end) / len(end))
    return 0.0 if a == 0 else 100.0 * (b - a) / a


def verdict(sent, answered, identical, good, crashes, growth):
    """The last line of a stress run."""
    return ("sent %d, answered %d, identical %d of %d good, crashes %d, growth %.1f%%"
            % (sent, answered, identical, good, crashes, growth))
