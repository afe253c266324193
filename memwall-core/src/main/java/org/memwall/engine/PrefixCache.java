package org.memwall.engine;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;
import org.memwall.model.KvCache;

/**
 * Automatic prefix caching: the KV caches of finished sequences, indexed by the hash chain of their
 * tokens in blocks of {@link #BLOCK} (each block's key hashes the previous block's key with its own
 * tokens, so one key names a whole prefix). A new sequence whose prompt starts with a cached prefix
 * gets that prefix's keys and values copied into its own cache ({@link KvCache#copyPrefix}) and
 * evaluates only the rest; the copy is exact, so its tokens are the ones it would get without the
 * cache. Entries are evicted least recently used when the engine needs their memory. A block held by
 * an entry stays with it unless a newer entry extends that entry (which then goes); a newer entry
 * that holds no block of its own is not kept. Not thread-safe: the engine holds its lock.
 */
final class PrefixCache {
    /** Tokens per hashed block: a prefix is matched in whole blocks, then extended token by token. */
    static final int BLOCK = 16;

    static final class Entry {
        final int[] tokens;
        final KvCache cache;
        final long bytes;
        /** Block keys that point at this entry; at 0 it is unreachable and goes. */
        int keys;

        Entry(int[] tokens, KvCache cache) {
            this.tokens = tokens;
            this.cache = cache;
            this.bytes = cache.allocatedBytes();
        }
    }

    private final Map<Long, Entry> byKey = new HashMap<>();
    /** Least recently used first. */
    private final LinkedHashSet<Entry> lru = new LinkedHashSet<>();
    private long bytes;

    /** Bytes of KV cache the entries hold. */
    long bytes() {
        return bytes;
    }

    int entries() {
        return lru.size();
    }

    /** The key of each whole block of {@code tokens[0..length)}: a chain, each depending on all before it. */
    private static long[] keys(int[] tokens, int length) {
        long[] keys = new long[length / BLOCK];
        long h = 0x9E3779B97F4A7C15L;
        for (int b = 0; b < keys.length; b++) {
            for (int i = b * BLOCK; i < (b + 1) * BLOCK; i++) {
                h = mix(h ^ (tokens[i] & 0xFFFFFFFFL));
            }
            keys[b] = h;
        }
        return keys;
    }

    /** A 64-bit finalizer (xor-shift-multiply), so that nearby token ids give unrelated keys. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The cached prefix a prompt starts with: {@code length} positions of an entry. */
    record Match(Entry entry, int length) {
    }

    /**
     * The longest cached prefix of {@code prompt}, at most all but its last token (which must be
     * evaluated to give logits), now the most recently used; null when nothing matches.
     */
    Match find(int[] prompt) {
        long[] keys = keys(prompt, prompt.length - 1);
        // From the deepest block down, not from the first until a miss: an evicted entry may have
        // been the one a shallow block pointed at while a deeper entry still holds that block too.
        for (int b = keys.length - 1; b >= 0; b--) {
            Entry e = byKey.get(keys[b]);
            if (e != null && Arrays.equals(e.tokens, 0, (b + 1) * BLOCK, prompt, 0, (b + 1) * BLOCK)) {
                int matched = (b + 1) * BLOCK;
                int limit = Math.min(e.tokens.length, prompt.length - 1);
                while (matched < limit && e.tokens[matched] == prompt[matched]) {
                    matched++;
                }
                lru.remove(e);
                lru.add(e);
                return new Match(e, matched);
            }
        }
        return null;
    }

    /**
     * Copies a match into a new sequence's cache and returns its length; 0 when the entry was evicted
     * since, or when its cache cannot resume there (a sliding-window ring moved past the match's end).
     */
    int restore(Match match, KvCache into) {
        if (match == null || !lru.contains(match.entry)) {
            return 0;
        }
        return into.copyPrefix(match.entry.cache, match.length);
    }

    /**
     * Takes a finished sequence's cache, whose first {@code tokens.length} positions hold the keys
     * and values of {@code tokens}; closes it when it holds no whole block or adds nothing cached.
     */
    void offer(int[] tokens, KvCache cache) {
        long[] keys = keys(tokens, tokens.length);
        if (keys.length == 0) {
            cache.close();
            return;
        }
        Entry deepest = byKey.get(keys[keys.length - 1]);
        if (deepest != null && deepest.tokens.length >= tokens.length
                && Arrays.equals(deepest.tokens, 0, tokens.length, tokens, 0, tokens.length)) {
            cache.close(); // already cached: keep the older copy, now recently used
            lru.remove(deepest);
            lru.add(deepest);
            return;
        }
        Entry e = new Entry(tokens, cache);
        for (long k : keys) {
            Entry old = byKey.get(k);
            // A block another entry holds stays with it unless the new one extends that entry
            // (a conversation's next turn): then the older entry is superseded and goes.
            if (old == null || old.tokens.length <= tokens.length && Arrays.equals(old.tokens, 0, old.tokens.length, tokens, 0, old.tokens.length)) {
                byKey.put(k, e);
                e.keys++;
                if (old != null && --old.keys == 0) {
                    drop(old);
                }
            }
        }
        if (e.keys == 0) {
            cache.close(); // every block it holds is held by another entry
            return;
        }
        lru.add(e);
        bytes += e.bytes;
    }

    /** Frees the least recently used entry; false when there is none. */
    boolean evictOne() {
        Iterator<Entry> it = lru.iterator();
        if (!it.hasNext()) {
            return false;
        }
        Entry e = it.next();
        for (long k : keys(e.tokens, e.tokens.length)) {
            byKey.remove(k, e);
        }
        drop(e);
        return true;
    }

    /** Frees every entry. */
    void clear() {
        while (evictOne()) {
            // each call frees one
        }
    }

    private void drop(Entry e) {
        lru.remove(e);
        bytes -= e.bytes;
        e.cache.close();
    }
}
