package org.memwall.model;

/** Which pairs of a head's dimensions RoPE rotates together. */
public enum RopeStyle {
    /** Adjacent pairs (x[2i], x[2i+1]): llama, granite. */
    NORM,
    /** Halves (x[i], x[i + n_rot/2]): GPT-NeoX, qwen2/3, exaone, gpt-oss. */
    NEOX
}
