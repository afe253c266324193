package org.memwall.plan;

import java.util.Locale;

/** A {@link Canvas} written as an SVG document by hand (no library): one element per mark. */
final class SvgCanvas implements Canvas {
    private final StringBuilder out = new StringBuilder();

    SvgCanvas(int width, int height) {
        out.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n")
                .append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                        + "font-family=\"sans-serif\">%n", width, height, width, height))
                .append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>%n", width, height));
    }

    @Override
    public void begin(String... attrs) {
        out.append("<g").append(attributes(attrs)).append(">\n");
    }

    @Override
    public void end() {
        out.append("</g>\n");
    }

    @Override
    public void rect(double x, double y, double w, double h, int stroke, String... attrs) {
        out.append(String.format(Locale.ROOT, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"none\" stroke=\"%s\"%s/>%n", x, y, w, h,
                color(stroke), attributes(attrs)));
    }

    @Override
    public void line(double x1, double y1, double x2, double y2, int color, double width, boolean dashed, String... attrs) {
        out.append(String.format(Locale.ROOT, "<line x1=\"%.2f\" y1=\"%.2f\" x2=\"%.2f\" y2=\"%.2f\"%s%s/>%n", x1, y1, x2, y2, stroke(color, width, dashed),
                attributes(attrs)));
    }

    @Override
    public void polyline(double[] xs, double[] ys, int color, double width, boolean dashed, String... attrs) {
        StringBuilder points = new StringBuilder();
        for (int i = 0; i < xs.length; i++) {
            points.append(i > 0 ? " " : "").append(String.format(Locale.ROOT, "%.2f,%.2f", xs[i], ys[i]));
        }
        out.append("<polyline points=\"").append(points).append("\" fill=\"none\"").append(stroke(color, width, dashed)).append(attributes(attrs))
                .append("/>\n");
    }

    @Override
    public void dot(double x, double y, double r, int color, String... attrs) {
        out.append(String.format(Locale.ROOT, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%.1f\" fill=\"%s\"%s/>%n", x, y, r, color(color), attributes(attrs)));
    }

    @Override
    public void text(double x, double y, String text, double size, int color, Anchor anchor, boolean vertical) {
        String a = switch (anchor) {
            case START -> "start";
            case MIDDLE -> "middle";
            case END -> "end";
        };
        out.append(String.format(Locale.ROOT, "<text x=\"%.2f\" y=\"%.2f\" font-size=\"%.1f\" fill=\"%s\" text-anchor=\"%s\"%s>%s</text>%n", x, y, size,
                color(color), a, vertical ? String.format(Locale.ROOT, " transform=\"rotate(-90 %.2f %.2f)\"", x, y) : "", escape(text)));
    }

    @Override
    public String toString() {
        return out + "</svg>\n";
    }

    private static String stroke(int color, double width, boolean dashed) {
        return String.format(Locale.ROOT, " stroke=\"%s\" stroke-width=\"%.1f\"%s", color(color), width, dashed ? " stroke-dasharray=\"6 4\"" : "");
    }

    private static String color(int rgb) {
        return String.format(Locale.ROOT, "#%06x", rgb & 0xffffff);
    }

    private static String attributes(String[] attrs) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i + 1 < attrs.length; i += 2) {
            sb.append(' ').append(attrs[i]).append("=\"").append(escape(attrs[i + 1])).append('"');
        }
        return sb.toString();
    }

    private static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
