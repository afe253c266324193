package org.memwall.grammar;

import java.util.ArrayList;
import java.util.List;

/** A set of Unicode code points as sorted, disjoint, inclusive ranges. */
final class CodePointSet {
    private final List<int[]> ranges = new ArrayList<>();

    CodePointSet add(int lo, int hi) {
        ranges.add(new int[] {lo, hi});
        return this;
    }

    CodePointSet addAll(CodePointSet other) {
        ranges.addAll(other.ranges);
        return this;
    }

    /** The ranges, sorted and merged. */
    List<int[]> ranges() {
        List<int[]> sorted = new ArrayList<>(ranges);
        sorted.sort((a, b) -> Integer.compare(a[0], b[0]));
        List<int[]> out = new ArrayList<>();
        for (int[] r : sorted) {
            if (!out.isEmpty() && r[0] <= out.getLast()[1] + 1) {
                out.getLast()[1] = Math.max(out.getLast()[1], r[1]);
            } else {
                out.add(new int[] {r[0], r[1]});
            }
        }
        return out;
    }

    /** Every code point not in this set. */
    CodePointSet complement() {
        CodePointSet c = new CodePointSet();
        int next = 0;
        for (int[] r : ranges()) {
            if (r[0] > next) {
                c.add(next, r[0] - 1);
            }
            next = r[1] + 1;
        }
        if (next <= 0x10FFFF) {
            c.add(next, 0x10FFFF);
        }
        return c;
    }

    /** This set without the code points of {@code other}. */
    CodePointSet minus(CodePointSet other) {
        CodePointSet both = new CodePointSet().addAll(complement()).addAll(other);
        return both.complement();
    }
}
