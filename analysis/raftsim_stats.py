"""Statistics and drawing aids for the raftsim plots: percentiles, CDFs,
downsampling of long step series, and merging or clipping role intervals.

Pure standard library, like raftsim_trace, so that the derivations are tested
where matplotlib is missing.
"""

import math


# ---------------------------------------------------------------- statistics

def percentile(values, p):
    """Nearest-rank percentile: the smallest value with at least p% of the
    values at or below it, so it lies on the empirical CDF.  None if empty."""
    if not values:
        return None
    s = sorted(values)
    rank = max(1, math.ceil(p / 100.0 * len(s)))
    return s[rank - 1]


def cdf_points(values):
    """(sorted values, cumulative fractions) of the empirical CDF."""
    s = sorted(values)
    n = len(s)
    return s, [(i + 1) / n for i in range(n)]


# ---------------------------------------------------------------- drawing aids

def downsample_steps(points, t0, t1, max_points=2000):
    """A step series (t, value) sorted by t, cut to [t0, t1] and thinned to at
    most about max_points: one point (the last) per time bucket.  The value in
    force at t0 is carried to t0 and the last value to t1, so the steps span
    the window."""
    before = None
    inside = []
    for p in points:
        if p[0] < t0:
            before = p
        elif p[0] <= t1:
            inside.append(p)
    out = [(t0, before[1])] if before is not None else []
    width = max(1.0, (t1 - t0) / float(max_points))
    bucket = None
    for p in inside:
        b = int((p[0] - t0) / width)
        if b == bucket and out:
            out[-1] = (p[0], p[1])
        else:
            out.append((p[0], p[1]))
            bucket = b
    if out and out[-1][0] < t1:
        out.append((t1, out[-1][1]))
    return out


def downsample_points(points, t0, t1, max_points=2000):
    """Scatter points (t, value) within [t0, t1], thinned to the lowest and the
    highest value of each time bucket, so the envelope survives."""
    width = max(1.0, (t1 - t0) / float(max_points / 2))
    buckets = {}
    for t, v in points:
        if t0 <= t <= t1:
            lo_hi = buckets.setdefault(int((t - t0) / width), [(t, v), (t, v)])
            if v < lo_hi[0][1]:
                lo_hi[0] = (t, v)
            if v > lo_hi[1][1]:
                lo_hi[1] = (t, v)
    out = set()
    for lo, hi in buckets.values():
        out.update((lo, hi))
    return sorted(out)


def merge_narrow(intervals, min_width):
    """Bands for drawing: runs of consecutive intervals narrower than
    min_width (a pixel) are joined into bands at least that wide, each shown
    with the role that filled most of it and the highest term in it."""
    out, run = [], []

    def flush():
        if not run:
            return
        share = {}
        for iv in run:
            share[iv.role] = share.get(iv.role, 0) + iv.end - iv.start
        role = max(share, key=lambda r: share[r])
        out.append(run[0]._replace(end=run[-1].end, role=role, term=max(iv.term for iv in run)))
        del run[:]

    for iv in intervals:
        if iv.end - iv.start >= min_width:
            flush()
            out.append(iv)
        else:
            run.append(iv)
            if run[-1].end - run[0].start >= min_width:
                flush()
    flush()
    return out


def clip_intervals(intervals, t0, t1):
    """Intervals cut to [t0, t1]; those outside are left out."""
    return [iv._replace(start=max(iv.start, t0), end=min(iv.end, t1))
            for iv in intervals if iv.end > t0 and iv.start < t1]
