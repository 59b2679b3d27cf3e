package dev.gguf4j.quality;

import dev.gguf4j.quality.Ladder.Row;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;

/**
 * The ladder as an SVG chart (plain SVG 1.1 text, no scripts, opens in any browser): left, mean KL divergence from
 * the base against bits per weight (log y, ± uncertainty as bars), each point labelled with its type; right, pp and
 * tg tokens/s per type (± standard deviation), the base included.
 */
final class LadderChart {
    private static final int W = 980;
    private static final int H = 625;
    private static final int TOP = 70;
    private static final int BOTTOM = 500;
    private static final int[] LEFT = {80, 570};
    private static final int PANEL_W = 370;
    private static final String PP_COLOR = "#1f6fb4";
    private static final String TG_COLOR = "#d95f02";
    /** The KLD lines' colours: the reference search's, then the other searches' in name order. */
    private static final String[] KLD_COLORS = {"#2a7d2e", "#7b3294", "#c51b7d"};

    private LadderChart() {
    }

    static String svg(Ladder.Result r) {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\""
                + " viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" font-size=\"12\">%n",
                W, H, W, H));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W, H));
        text(sb, W / 2.0, 28, "middle", 17, "bold", "Quantization ladder: quality and speed against size");
        text(sb, W / 2.0, 48, "middle", 12, "normal", String.format(Locale.ROOT,
                "%s: base %s, %.2f MiB, PPL %.4f; %d chunks of %d tokens", r.model(), r.base().type(),
                r.base().fileBytes() / 1048576.0, r.base().ppl().value(), r.chunks(), r.contextLength()));
        List<Row> rows = new ArrayList<>(r.rows());
        rows.sort(Comparator.comparingDouble(Row::bitsPerWeight));
        // left: mean KLD
        List<Row> withKld = rows.stream().filter(x -> x.meanKld().value() > 0).toList();
        if (withKld.isEmpty()) {
            panelMessage(sb, 0, "Mean KL divergence vs " + r.base().type(), "no quantization measured yet");
        } else {
            double[] xr = linearRange(withKld.stream().mapToDouble(Row::bitsPerWeight).min().orElseThrow(),
                    withKld.stream().mapToDouble(Row::bitsPerWeight).max().orElseThrow());
            double[] yr = logRange(withKld.stream().mapToDouble(x -> x.meanKld().value() - x.meanKld().uncertainty())
                    .filter(v -> v > 0).min().orElse(withKld.getFirst().meanKld().value()),
                    withKld.stream().mapToDouble(x -> x.meanKld().value() + x.meanKld().uncertainty()).max()
                            .orElseThrow());
            axes(sb, 0, xr, yr, "Mean KL divergence vs " + r.base().type() + " (log scale)", "mean KLD");
            // a line per search: the reference rungs (TYPE), then each other search's (TYPE+better, TYPE+gptq)
            java.util.Map<String, List<Row>> bySearch = new java.util.TreeMap<>();
            withKld.forEach(x -> bySearch.computeIfAbsent(search(x.type()), k -> new ArrayList<>()).add(x));
            List<Label> labels = new ArrayList<>();
            int series = 0;
            for (List<Row> rs : bySearch.values()) {
                String color = KLD_COLORS[Math.min(series, KLD_COLORS.length - 1)];
                List<double[]> at = new ArrayList<>();
                StringBuilder line = new StringBuilder();
                for (Row x : rs) {
                    double px = sx(0, xr, x.bitsPerWeight());
                    double py = sy(yr, x.meanKld().value());
                    line.append(line.isEmpty() ? "" : " ").append(String.format(Locale.ROOT, "%.1f,%.1f", px, py));
                    double lo = Math.max(yr[0], x.meanKld().value() - x.meanKld().uncertainty());
                    sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\""
                            + " stroke=\"%s\" stroke-width=\"1.5\"/>%n", px, sy(yr, lo), px,
                            sy(yr, x.meanKld().value() + x.meanKld().uncertainty()), color));
                    at.add(new double[] {px, py});
                }
                sb.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\""
                        + " stroke-opacity=\"0.5\" stroke-width=\"1.5\"/>%n", line, color));
                points(sb, rs, at, color, series == 0 ? "circle" : "rect", labels);
                series++;
            }
            place(sb, labels);
            if (bySearch.size() > 1) {
                // legend, top right (fewest bits, most KLD, top left)
                double lx = LEFT[0] + PANEL_W - 150;
                double ly = TOP + 14;
                sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"142\" height=\"%d\""
                        + " fill=\"white\" stroke=\"#999\"/>%n", lx - 8, ly - 10, 20 * bySearch.size() + 2));
                int i = 0;
                for (String key : bySearch.keySet()) {
                    marker(sb, lx, ly, KLD_COLORS[Math.min(i, KLD_COLORS.length - 1)], i == 0 ? "circle" : "rect");
                    text(sb, lx + 10, ly + 4, "start", 12, "normal", key.isEmpty() ? "TYPE (reference)"
                            : "TYPE+" + key);
                    ly += 20;
                    i++;
                }
            }
        }
        // right: tokens/s, a pair of bars per type (in the same order: fewest bits first), base last
        List<Row> all = new ArrayList<>(rows.stream().filter(x -> x.ppTs().value() > 0 || x.tgTs().value() > 0)
                .toList()); // the better-search rungs have none (same format as their type's)
        all.add(r.base());
        all.sort(Comparator.comparingDouble(Row::bitsPerWeight));
        boolean anyPp = all.stream().anyMatch(x -> x.ppTs().value() > 0);
        boolean anyTg = all.stream().anyMatch(x -> x.tgTs().value() > 0);
        if (!anyPp && !anyTg) {
            panelMessage(sb, 1, "Speed", "speed not measured");
        } else {
            speedBars(sb, all, anyPp, anyTg);
        }
        text(sb, W / 2.0, H - 12, "middle", 11, "normal", "Error bars: KLD ± its standard uncertainty (often smaller"
                + " than the dot). Speed: mean of the repetitions on the machine that ran the ladder.");
        sb.append("</svg>\n");
        return sb.toString();
    }

    private static void speedBars(StringBuilder sb, List<Row> all, boolean anyPp, boolean anyTg) {
        int left = LEFT[1];
        double max = 0;
        for (Row x : all) {
            max = Math.max(max, Math.max(x.ppTs().value() + x.ppTs().uncertainty(),
                    x.tgTs().value() + x.tgTs().uncertainty()));
        }
        double step = niceStep(max / 6);
        double top = Math.ceil(max * 1.08 / step) * step;
        text(sb, left + PANEL_W / 2.0, TOP - 8, "middle", 13, "bold", "Speed, tokens/s (± sd; noisy shared machine)");
        for (double v = 0; v <= top + 1e-9; v += step) {
            double y = BOTTOM - v / top * (BOTTOM - TOP);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>%n",
                    left, y, left + PANEL_W, y));
            sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#333\"/>%n",
                    left - 6, y, left, y));
            text(sb, left - 9, y + 4, "end", 11, "normal", String.format(Locale.ROOT, "%.0f", v));
        }
        int series = (anyPp ? 1 : 0) + (anyTg ? 1 : 0);
        double slot = (double) PANEL_W / all.size();
        double barW = Math.min(18, slot * 0.7 / series);
        for (int i = 0; i < all.size(); i++) {
            Row x = all.get(i);
            double cx = left + slot * (i + 0.5);
            double bx = cx - barW * series / 2;
            if (anyPp) {
                bar(sb, bx, barW, top, x.ppTs(), PP_COLOR);
                bx += barW;
            }
            if (anyTg) {
                bar(sb, bx, barW, top, x.tgTs(), TG_COLOR);
            }
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"end\" font-size=\"11\""
                    + " transform=\"rotate(-35 %.1f %d)\">%s</text>%n", cx + 4, BOTTOM + 16, cx + 4, BOTTOM + 16,
                    escape(x.type() + String.format(Locale.ROOT, " (%.1f)", x.bitsPerWeight()))));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
                + " stroke=\"#333\"/>%n", left, TOP, PANEL_W, BOTTOM - TOP));
        text(sb, left + PANEL_W / 2.0, BOTTOM + 84, "middle", 12, "normal", "type (bits per weight)");
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\""
                + " transform=\"rotate(-90 %d %.1f)\">tokens/s</text>%n", left - 58, (TOP + BOTTOM) / 2.0, left - 58,
                (TOP + BOTTOM) / 2.0));
        // legend, top right (the base, slowest, is on the right)
        double lx = left + PANEL_W - 150;
        double ly = TOP + 14;
        sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"142\" height=\"%d\" fill=\"white\""
                + " stroke=\"#999\"/>%n", lx - 8, ly - 10, 20 * series + 2));
        if (anyPp) {
            marker(sb, lx, ly, PP_COLOR, "rect");
            text(sb, lx + 10, ly + 4, "start", 12, "normal", "pp (prompt)");
            ly += 20;
        }
        if (anyTg) {
            marker(sb, lx, ly, TG_COLOR, "rect");
            text(sb, lx + 10, ly + 4, "start", 12, "normal", "tg (generation)");
        }
    }

    private static void bar(StringBuilder sb, double x, double w, double top, KlDivergence.Estimate e, String c) {
        if (e.value() <= 0) {
            return;
        }
        double y = BOTTOM - e.value() / top * (BOTTOM - TOP);
        sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>%n",
                x, y, w - 1, BOTTOM - y, c));
        if (e.uncertainty() > 0) {
            double y0 = BOTTOM - Math.max(0, e.value() - e.uncertainty()) / top * (BOTTOM - TOP);
            double y1 = BOTTOM - (e.value() + e.uncertainty()) / top * (BOTTOM - TOP);
            double cx = x + (w - 1) / 2;
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>%n",
                    cx, y0, cx, y1));
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#222\"/>%n",
                    cx - 3, y1, cx + 3, y1));
        }
    }

    private static double niceStep(double raw) {
        double p = Math.pow(10, Math.floor(Math.log10(raw)));
        for (double m : new double[] {1, 2, 5, 10}) {
            if (m * p >= raw) {
                return m * p;
            }
        }
        return 10 * p;
    }

    /** The search that made a rung: what follows '+' in its name (Ladder.rungName), "" for the reference. */
    private static String search(String type) {
        int plus = type.indexOf('+');
        return plus < 0 ? "" : type.substring(plus + 1);
    }

    /** A type label beside its point, in its series' colour. */
    private record Label(String text, double x, double y, String color) {
    }

    /** Markers, and their labels into {@code labels} (placed together by {@link #place}). */
    private static void points(StringBuilder sb, List<Row> rows, List<double[]> at, String color, String shape,
            List<Label> labels) {
        for (int i = 0; i < rows.size(); i++) {
            double[] p = at.get(i);
            marker(sb, p[0], p[1], color, shape);
            labels.add(new Label(rows.get(i).type(), p[0] + 7, p[1] - 6, color));
        }
    }

    /** Draws the labels top to bottom, each moved down below any earlier label it would overlap. */
    private static void place(StringBuilder sb, List<Label> labels) {
        List<Label> ls = new ArrayList<>(labels);
        ls.sort(Comparator.comparingDouble(Label::y));
        List<Label> placed = new ArrayList<>();
        for (Label l : ls) {
            double y = l.y();
            boolean moved = true;
            while (moved) {
                moved = false;
                for (Label q : placed) {
                    if (Math.abs(q.x() - l.x()) < 58 && Math.abs(q.y() - y) < 13) {
                        y = q.y() + 13;
                        moved = true;
                    }
                }
            }
            placed.add(new Label(l.text(), l.x(), y, l.color()));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" fill=\"%s\">%s</text>%n",
                    l.x(), y, l.color(), escape(l.text())));
        }
    }

    private static void marker(StringBuilder sb, double x, double y, String color, String shape) {
        if (shape.equals("rect")) {
            sb.append(String.format(Locale.ROOT, "<rect x=\"%.1f\" y=\"%.1f\" width=\"8\" height=\"8\" fill=\"%s\"/>%n",
                    x - 4, y - 4, color));
        } else {
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"%s\"/>%n", x, y,
                    color));
        }
    }

    private static void panelMessage(StringBuilder sb, int panel, String title, String message) {
        text(sb, LEFT[panel] + PANEL_W / 2.0, TOP - 8, "middle", 13, "bold", title);
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
                + " stroke=\"#333\"/>%n", LEFT[panel], TOP, PANEL_W, BOTTOM - TOP));
        text(sb, LEFT[panel] + PANEL_W / 2.0, (TOP + BOTTOM) / 2.0, "middle", 13, "normal", message);
    }

    private static void axes(StringBuilder sb, int panel, double[] xr, double[] yr, String title, String yLabel) {
        int left = LEFT[panel];
        text(sb, left + PANEL_W / 2.0, TOP - 8, "middle", 13, "bold", title);
        // y: log ticks at 1, 2, 5 per decade (labelled; only decades labelled when the range is wide)
        double decades = Math.log10(yr[1] / yr[0]);
        for (int e = (int) Math.floor(Math.log10(yr[0])); e <= (int) Math.ceil(Math.log10(yr[1])); e++) {
            for (int m : new int[] {1, 2, 3, 4, 5, 6, 7, 8, 9}) {
                double v = m * Math.pow(10, e);
                if (v < yr[0] * 0.999 || v > yr[1] * 1.001) {
                    continue;
                }
                double y = sy(yr, v);
                boolean major = m == 1;
                boolean labelled = major || decades <= 1 || (decades <= 2.5 && (m == 2 || m == 5));
                sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"%s\"/>%n",
                        left, y, left + PANEL_W, y, major ? "#ccc" : "#eee"));
                sb.append(String.format(Locale.ROOT, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#333\"/>%n",
                        left - (major ? 6 : 3), y, left, y));
                if (labelled) {
                    text(sb, left - 9, y + 4, "end", 11, "normal", number(m, e));
                }
            }
        }
        // x: bits per weight, a tick per bit (every 2 bits when wide)
        double step = xr[1] - xr[0] > 10 ? 2 : 1;
        for (double v = Math.ceil(xr[0] / step) * step; v <= xr[1] + 1e-9; v += step) {
            double x = sx(panel, xr, v);
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#eee\"/>%n",
                    x, TOP, x, BOTTOM));
            sb.append(String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#333\"/>%n",
                    x, BOTTOM, x, BOTTOM + 6));
            text(sb, x, BOTTOM + 20, "middle", 11, "normal", String.format(Locale.ROOT, "%.0f", v));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\""
                + " stroke=\"#333\"/>%n", left, TOP, PANEL_W, BOTTOM - TOP));
        text(sb, left + PANEL_W / 2.0, BOTTOM + 42, "middle", 12, "normal", "bits per weight");
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"12\""
                + " transform=\"rotate(-90 %d %.1f)\">%s</text>%n", left - 58, (TOP + BOTTOM) / 2.0, left - 58,
                (TOP + BOTTOM) / 2.0, escape(yLabel)));
    }

    /** m × 10^e as a plain decimal (0.0005, 20, 3000). */
    private static String number(int m, int e) {
        return BigDecimal.valueOf(m).scaleByPowerOfTen(e).stripTrailingZeros().toPlainString();
    }

    private static double[] linearRange(double min, double max) {
        return new double[] {Math.floor(min - 0.3), Math.ceil(max + 0.3)};
    }

    /** The points' range on a log scale, widened by 8% of it (at least 0.08 decades) each side. */
    private static double[] logRange(double min, double max) {
        double lo = Math.log10(min);
        double hi = Math.log10(Math.max(max, min * 1.01));
        double pad = Math.max(0.08, 0.08 * (hi - lo));
        return new double[] {Math.pow(10, lo - pad), Math.pow(10, hi + pad)};
    }

    private static double sx(int panel, double[] xr, double v) {
        return LEFT[panel] + (v - xr[0]) / (xr[1] - xr[0]) * PANEL_W;
    }

    private static double sy(double[] yr, double v) {
        return BOTTOM - (Math.log10(v) - Math.log10(yr[0])) / (Math.log10(yr[1]) - Math.log10(yr[0])) * (BOTTOM - TOP);
    }

    private static void text(StringBuilder sb, double x, double y, String anchor, int size, String weight, String s) {
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" font-size=\"%d\"%s>%s</text>%n",
                x, y, anchor, size, weight.equals("bold") ? " font-weight=\"bold\"" : "", escape(s)));
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
