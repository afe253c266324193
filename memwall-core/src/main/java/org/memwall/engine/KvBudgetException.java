package org.memwall.engine;

import java.util.Locale;
import org.memwall.MemwallException;

/** A request whose prompt and max tokens need more KV cache than the whole budget: it could never run. */
public final class KvBudgetException extends MemwallException {
    public KvBudgetException(int prompt, int maxTokens, int positionLimit, long budgetBytes) {
        super(String.format(Locale.ROOT, "the prompt (%d tokens) plus max_tokens (%d) needs more KV cache than the budget of %.1f MiB"
                + " (--kv-budget) holds for one request: at most %d tokens", prompt, maxTokens, budgetBytes / 1048576.0, positionLimit));
    }
}
