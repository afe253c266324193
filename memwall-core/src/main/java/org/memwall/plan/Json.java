package org.memwall.plan;

import java.util.Locale;

/** The two pieces of JSON the planner writes by hand: strings and numbers (NaN and infinities as null). */
final class Json {
    private Json() {
    }

    static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"");
    }

    static String number(double v) {
        if (Double.isNaN(v) || Double.isInfinite(v)) {
            return "null";
        }
        return String.format(Locale.ROOT, "%.6g", v);
    }
}
