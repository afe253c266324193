package org.memwall.plan;

/**
 * What the plan's plots are drawn on: an SVG document ({@link SvgCanvas}) or a raster image
 * ({@link ImageCanvas}). Coordinates are pixels from the top left; colours are 0xRRGGBB. {@code attrs}
 * are name/value pairs (an id, the data a mark stands for) that an SVG keeps and an image ignores.
 */
interface Canvas {

    enum Anchor { START, MIDDLE, END }

    /** Opens a group (a panel) carrying {@code attrs}; {@link #end} closes it. */
    void begin(String... attrs);

    void end();

    void rect(double x, double y, double w, double h, int stroke, String... attrs);

    void line(double x1, double y1, double x2, double y2, int color, double width, boolean dashed, String... attrs);

    void polyline(double[] xs, double[] ys, int color, double width, boolean dashed, String... attrs);

    /** A filled dot of radius {@code r} centred on (x, y). */
    void dot(double x, double y, double r, int color, String... attrs);

    /** Text whose baseline starts, centres or ends at (x, y); vertical text reads bottom to top. */
    void text(double x, double y, String text, double size, int color, Anchor anchor, boolean vertical);
}
