package org.memwall.plan;

/** The arithmetic a matrix product runs in on an accelerator; a device without one runs the next wider. */
public enum Precision {
    FP4, FP8, BF16;

    /** The next wider precision, or null after BF16. */
    Precision wider() {
        return this == FP4 ? FP8 : this == FP8 ? BF16 : null;
    }
}
