package org.memwall.grammar;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.memwall.chat.Json;

class GrammarTest {

    private static boolean matches(Grammar g, String text) {
        return new GrammarMatcher(g).matches(text.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void gbnfArithmeticAcceptsExpressionsAndRejectsOthers() {
        Grammar g = Grammar.parse("""
                root ::= expr            # a comment
                expr ::= term (("+" | "-") term)*
                term ::= [0-9]+ | "(" expr ")"
                """);
        assertThat(matches(g, "1+(23-4)")).isTrue();
        assertThat(matches(g, "12")).isTrue();
        assertThat(matches(g, "1+")).isFalse();
        assertThat(matches(g, "(1")).isFalse();
        assertThat(matches(g, "a")).isFalse();
        assertThat(matches(g, "")).isFalse();
    }

    @Test
    void countedRepetitionAndOptionalsHoldTheirBounds() {
        Grammar g = Grammar.parse("root ::= \"a\"{2,4} \"b\"? [xy]{3}");
        assertThat(matches(g, "aaxyx")).isTrue();
        assertThat(matches(g, "aaaabyyy")).isTrue();
        assertThat(matches(g, "axyx")).isFalse();
        assertThat(matches(g, "aaaaaxyx")).isFalse();
        assertThat(matches(g, "aabxy")).isFalse();
    }

    @Test
    void classesAndDotMatchWholeUtf8CharactersOnly() {
        Grammar g = Grammar.parse("root ::= [^a-z\"] [가-힣] . \"é\"");
        assertThat(matches(g, "Q한€é")).isTrue();
        assertThat(matches(g, "😀한xé")).isTrue();
        assertThat(matches(g, "q한xé")).isFalse();
        assertThat(matches(g, "Qaxé")).isFalse();
        // Half a character is not a character.
        byte[] han = "한".getBytes(StandardCharsets.UTF_8);
        GrammarMatcher m = new GrammarMatcher(Grammar.parse("root ::= [가-힣]"));
        GrammarMatcher.State s = m.next(m.start(), new byte[] {han[0], han[1]});
        assertThat(s.dead()).isFalse();
        assertThat(s.accepting()).isFalse();
        assertThat(m.next(s, han[2] & 0xFF).accepting()).isTrue();
        assertThat(m.next(m.start(), new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80}).dead()).as("a surrogate").isTrue();
    }

    @Test
    void escapesInLiteralsAndClasses() {
        Grammar g = Grammar.parse("root ::= \"\\x41\\u00e9\\n\\\"\" [\\t\\]]");
        assertThat(matches(g, "Aé\n\"\t")).isTrue();
        assertThat(matches(g, "Aé\n\"]")).isTrue();
        assertThat(matches(g, "Aé\n\" ")).isFalse();
    }

    @Test
    void badGrammarsFailWithOneClearLine() {
        assertThatThrownBy(() -> Grammar.parse("root ::= foo")).hasMessage("rule 'foo' is used but not defined");
        assertThatThrownBy(() -> Grammar.parse("root ::= root \"a\" | \"b\"")).hasMessageContaining("left-recursive");
        assertThatThrownBy(() -> Grammar.parse("root ::= (\"a\"?)*")).hasMessageContaining("can be empty");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\" root")).hasMessageContaining("can never end");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"\nx ::= [b")).hasMessageStartingWith("grammar error at line 2");
        assertThatThrownBy(() -> Grammar.parse("start ::= \"a\"")).hasMessage("the grammar has no 'root' rule");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"{5000}")).hasMessageContaining("above 1000");
        assertThatThrownBy(() -> Grammar.parse("root ::= [z-a]")).hasMessageContaining("backwards");
    }

    @Test
    void costIsTheShortestCompletion() {
        GrammarMatcher m = new GrammarMatcher(Grammar.parse("root ::= \"{\" (\"ab\" | \"c\") \"}\" | \"xyz\""));
        assertThat(m.cost(m.start())).isEqualTo(3);
        GrammarMatcher.State brace = m.next(m.start(), '{');
        assertThat(m.cost(brace)).isEqualTo(2);
        assertThat(m.cost(m.next(brace, 'a'))).isEqualTo(2);
        assertThat(m.cost(m.next(m.next(brace, 'c'), '}'))).isZero();
    }

    @Test
    void repetitionDoesNotGrowTheParseStack() {
        GrammarMatcher m = new GrammarMatcher(Grammar.jsonObject());
        GrammarMatcher.State s = m.next(m.start(), "{\"k".getBytes(StandardCharsets.UTF_8));
        GrammarMatcher.State again = m.next(s, "kkkkkkkk".getBytes(StandardCharsets.UTF_8));
        assertThat(again).as("the same state: masks are reused inside strings").isSameAs(s);
    }

    @Test
    void aRepetitionCutOffAtTheEndIsAGrammarError() {
        // Found by RequestFuzzTest: "{1" at the end of the source read past it (StringIndexOutOfBoundsException, a 500).
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"{1")).isInstanceOf(GrammarException.class).hasMessageContaining("expected '}'");
        assertThatThrownBy(() -> Grammar.parse("root ::= \"a\"{1,")).isInstanceOf(GrammarException.class).hasMessageContaining("expected '}'");
    }

    private static Grammar schema(String json) {
        return Grammar.fromJsonSchema(Json.parse(json));
    }

    @Test
    void schemaObjectsKeepRequiredPropertiesAndOrder() {
        Grammar g = schema("""
                {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "string"}, "c": {"type": "boolean"}},
                 "required": ["a", "c"]}""");
        assertThat(matches(g, "{\"a\": 1, \"c\": true}")).isTrue();
        assertThat(matches(g, "{\"a\": -20, \"b\": \"x\\\"y\", \"c\": false}")).isTrue();
        assertThat(matches(g, "{\"a\": 1}")).isFalse();
        assertThat(matches(g, "{\"c\": true, \"a\": 1}")).isFalse();
        assertThat(matches(g, "{\"a\": 1.5, \"c\": true}")).isFalse();
        assertThat(matches(g, "{\"a\": 01, \"c\": true}")).isFalse();
        Grammar optional = schema("{\"properties\": {\"x\": {\"type\": \"null\"}, \"y\": {\"const\": 3}}}");
        assertThat(matches(optional, "{}")).isTrue();
        assertThat(matches(optional, "{\"y\": 3}")).isTrue();
        assertThat(matches(optional, "{\"x\": null, \"y\": 3}")).isTrue();
        assertThat(matches(optional, "{, \"y\": 3}")).isFalse();
        assertThat(matches(optional, "{\"y\": 4}")).isFalse();
    }

    @Test
    void schemaArraysEnumsRefsAndPatterns() {
        Grammar arr = schema("{\"type\": \"array\", \"items\": {\"enum\": [\"x\", 2, null]}, \"minItems\": 1, \"maxItems\": 2}");
        assertThat(matches(arr, "[\"x\"]")).isTrue();
        assertThat(matches(arr, "[2, null]")).isTrue();
        assertThat(matches(arr, "[]")).isFalse();
        assertThat(matches(arr, "[2, 2, 2]")).isFalse();
        Grammar tree = schema("""
                {"$ref": "#/$defs/node", "$defs": {"node": {"type": "object", "properties": {"v": {"type": "integer"},
                 "kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}}, "required": ["v", "kids"]}}}""");
        assertThat(matches(tree, "{\"v\": 1, \"kids\": [{\"v\": 2, \"kids\": []}]}")).isTrue();
        assertThat(matches(tree, "{\"v\": 1, \"kids\": [{\"v\": 2}]}")).isFalse();
        Grammar pattern = schema("{\"type\": \"string\", \"pattern\": \"^[A-Z]{2}-\\\\d{3}(x|yz)?$\"}");
        assertThat(matches(pattern, "\"AB-123\"")).isTrue();
        assertThat(matches(pattern, "\"AB-123yz\"")).isTrue();
        assertThat(matches(pattern, "\"AB-12\"")).isFalse();
        Grammar date = schema("{\"type\": \"string\", \"format\": \"date-time\"}");
        assertThat(matches(date, "\"2024-02-29T13:05:00Z\"")).isTrue();
        assertThat(matches(date, "\"2024-13-29T13:05:00Z\"")).isFalse();
        Grammar range = schema("{\"type\": \"integer\", \"minimum\": 3, \"maximum\": 12}");
        assertThat(matches(range, "12")).isTrue();
        assertThat(matches(range, "13")).isFalse();
        assertThat(matches(range, "2")).isFalse();
    }

    @Test
    void unsupportedSchemaKeywordsAreRefusedNotIgnored() {
        assertThatThrownBy(() -> schema("{\"type\": \"array\", \"uniqueItems\": true}")).hasMessageContaining("'uniqueItems'");
        assertThatThrownBy(() -> schema("{\"type\": \"number\", \"minimum\": 0.5}")).hasMessageContaining("'minimum'");
        assertThatThrownBy(() -> schema("{\"$ref\": \"#/$defs/none\"}")).hasMessageContaining("points to nothing");
        assertThatThrownBy(() -> schema("{\"type\": \"string\", \"pattern\": \"(?=a)b\"}")).hasMessageContaining("lookaround");
        assertThatThrownBy(() -> schema("{\"type\": \"wat\"}")).hasMessageContaining("unknown JSON schema type 'wat'");
    }

    @Test
    void trieMaskWalkAgreesWithTokenByTokenMatching() {
        byte[][] vocab = {"{".getBytes(), "{\"".getBytes(), "\"".getBytes(), "a".getBytes(), "ab".getBytes(), "}".getBytes(), " ".getBytes(),
                ":".getBytes(), "\":".getBytes(), "1".getBytes(), "x}".getBytes(), new byte[0], "{}".getBytes(), "a".getBytes()};
        TokenTrie trie = TokenTrie.of(vocab);
        Grammar g = Grammar.jsonObject();
        GrammarMatcher m = new GrammarMatcher(g);
        for (String prefix : new String[] {"", "{", "{\"a", "{\"a\":", "{\"a\": 1"}) {
            GrammarMatcher.State s = m.next(m.start(), prefix.getBytes(StandardCharsets.UTF_8));
            java.util.Set<Integer> expected = new java.util.TreeSet<>();
            for (int t = 0; t < vocab.length; t++) {
                if (vocab[t].length > 0 && !m.next(s, vocab[t]).dead()) {
                    expected.add(t);
                }
            }
            java.util.Set<Integer> walked = new java.util.TreeSet<>();
            int i = 1;
            GrammarMatcher.State[] path = new GrammarMatcher.State[trie.maxDepth + 1];
            path[0] = s;
            while (i < trie.nodes) {
                GrammarMatcher.State q = m.next(path[trie.depth[i] - 1], trie.label[i] & 0xFF);
                if (q.dead()) {
                    i = trie.skip[i];
                    continue;
                }
                path[trie.depth[i]] = q;
                for (int t = trie.first[i]; t >= 0; t = trie.sameBytes[t]) {
                    walked.add(t);
                }
                i++;
            }
            assertThat(walked).as("after '" + prefix + "'").isEqualTo(expected).isNotEmpty();
        }
    }
}
