package org.memwall.sample;

/**
 * Restricts which tokens may come next (a grammar, a JSON schema). The {@link Sampler} asks it to
 * mask the logits before every pick and tells it the token picked.
 */
public interface TokenConstraint {
    /** Sets the logits of tokens that may not come next to negative infinity ({@code n} logits). */
    void mask(float[] logits, int n);

    /** Moves past a generated token. */
    void accept(int token);
}
