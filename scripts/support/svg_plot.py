"""Line charts as SVG files, standard library only: the one chart writer of the
benchmark reports (scripts/bench_e2e_report.py, scripts/bench_wan_report.py).

A chart is a dict of series, name -> points; a point is (x, y), or
(x, y, hollow) where hollow=True draws an open circle: a figure to doubt
(bench_wan_report.py marks the cells where the link emulator fell behind).
"""
import math

# matplotlib's colours, taken in series order unless a series is styled:
# reports that pass their series in the same order keep a colour per series
# across their charts.
PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
           "#e377c2", "#7f7f7f"]
DASH = "6 4"
WIDTH, HEIGHT = 640, 400
LEFT, RIGHT, TOP, BOTTOM = 70, 130, 40, 50  # margins: y ticks, legend, title, x ticks


def write_svg(file, title, x_label, y_label, series, log_x=False, styles=None, x_ticks=None):
    """A line chart: one line per series, axes with ticks, a legend.

    styles: name -> (colour, dashed), for series that belong together (one
    colour per delay, the baseline dashed); unstyled series take PALETTE in
    order. x_ticks: x -> label, for an axis of categories (x = their index).
    The y axis is logarithmic (decade ticks) when the values span more than a
    decade and a half: on a linear axis the fast paths would sit flat on zero
    under the slow one."""
    points = [pt for pts in series.values() for pt in pts]
    xs, px = x_scale(points, log_x)
    y_ticks, py, log_y = y_scale(points)
    if log_y:
        y_label += " (log scale)"
    out = frame(title, x_label, y_label)
    out += x_tick_marks(xs, px, x_ticks or {})
    out += y_tick_marks(y_ticks, py)
    for i, (name, pts) in enumerate(series.items()):
        color, dashed = (styles or {}).get(name, (PALETTE[i % len(PALETTE)], False))
        out += series_marks(i, name, sorted(pts), color, dashed, px, py)
    out.append("</svg>")
    with open(file, "w") as f:
        f.write("\n".join(out) + "\n")


def x_scale(points, log_x):
    """The distinct x values and the function from x to the SVG's x."""
    fx = math.log10 if log_x else (lambda x: x)
    xs = sorted({pt[0] for pt in points}) or [1]
    x0, x1 = fx(min(xs)), fx(max(xs))
    if x1 == x0:
        x1 = x0 + 1
    return xs, lambda x: LEFT + (fx(x) - x0) / (x1 - x0) * (WIDTH - LEFT - RIGHT)


def y_scale(points):
    """The y ticks, the function from y to the SVG's y, and whether the axis is
    logarithmic."""
    ys = [pt[1] for pt in points]
    positive = [y for y in ys if y > 0]
    log_y = bool(positive) and max(positive) / min(positive) > 30
    if log_y:
        d0 = math.floor(math.log10(min(positive)))
        d1 = max(math.ceil(math.log10(max(positive))), d0 + 1)
        # A value of 0 (nothing measured) sits on the axis.
        fy = lambda y: (math.log10(y) - d0) / (d1 - d0) if y > 0 else 0
        y_ticks = [10.0 ** d for d in range(d0, d1 + 1)]
    else:
        y1 = max(ys + [1e-9]) * 1.1
        fy = lambda y: y / y1
        y_ticks = [float(f"{y1 * i / 5:.3g}") for i in range(6)]
    return y_ticks, lambda y: HEIGHT - BOTTOM - fy(y) * (HEIGHT - TOP - BOTTOM), log_y


def frame(title, x_label, y_label):
    middle_y = (TOP + HEIGHT - BOTTOM) / 2
    return [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
            f'font-family="sans-serif" font-size="12">',
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
            f'<text x="{WIDTH / 2}" y="20" text-anchor="middle" font-size="14">{title}</text>',
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}" '
            'stroke="black"/>',
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="black"/>',
            f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 10}" text-anchor="middle">'
            f'{x_label}</text>',
            f'<text x="15" y="{middle_y}" text-anchor="middle" '
            f'transform="rotate(-90 15 {middle_y})">{y_label}</text>']


def x_tick_marks(xs, px, labels):
    out = []
    for x in xs:
        out.append(f'<line x1="{px(x):.1f}" y1="{HEIGHT - BOTTOM}" x2="{px(x):.1f}" '
                   f'y2="{HEIGHT - BOTTOM + 5}" stroke="black"/>')
        out.append(f'<text x="{px(x):.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">'
                   f'{labels.get(x, f"{x:g}")}</text>')
    return out


def y_tick_marks(y_ticks, py):
    out = []
    for y in y_ticks:
        out.append(f'<line x1="{LEFT - 5}" y1="{py(y):.1f}" x2="{WIDTH - RIGHT}" y2="{py(y):.1f}" '
                   'stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{py(y) + 4:.1f}" text-anchor="end">{y:g}</text>')
    return out


def series_marks(index, name, pts, color, dashed, px, py):
    """The legend entry (index-th from the top) and the line with its points."""
    dash = f' stroke-dasharray="{DASH}"' if dashed else ""
    ly = TOP + 20 * index + 10
    out = [f'<line x1="{WIDTH - RIGHT + 10}" y1="{ly}" x2="{WIDTH - RIGHT + 30}" y2="{ly}" '
           f'stroke="{color}" stroke-width="2"{dash}/>',
           f'<text x="{WIDTH - RIGHT + 35}" y="{ly + 4}">{name}{"" if pts else " (no data)"}</text>']
    if pts:
        path = " ".join(f"{px(pt[0]):.1f},{py(pt[1]):.1f}" for pt in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" stroke-width="2"'
                   f'{dash}/>')
        for x, y, *hollow in pts:
            fill = f'"white" stroke="{color}" stroke-width="1.5"' if any(hollow) else f'"{color}"'
            out.append(f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="3" fill={fill}/>')
    return out
