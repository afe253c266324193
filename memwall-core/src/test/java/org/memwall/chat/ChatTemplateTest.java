package org.memwall.chat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ChatTemplateTest {
    static String render(String template, Object... kv) {
        Map<String, Object> vars = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            vars.put((String) kv[i], kv[i + 1]);
        }
        return ChatTemplate.parse(template).render(vars);
    }

    @Test
    void strftimeNowReadsTheInjectedClockAndByDefaultTheRealOne() {
        Clock fixed = Clock.fixed(Instant.parse("2031-07-09T13:14:15Z"), ZoneOffset.UTC);
        ChatTemplate t = ChatTemplate.parse("{{ strftime_now('%d %b %Y %H:%M') }}");
        assertThat(t.render(Map.of(), fixed)).isEqualTo("09 Jul 2031 13:14");
        LocalDate before = LocalDate.now();
        String today = ChatTemplate.parse("{{ strftime_now('%Y-%m-%d') }}").render(Map.of());
        assertThat(today).isIn(before.toString(), LocalDate.now().toString());
    }

    @Test
    void malformedEscapesAreSyntaxErrorsNamingLineAndColumn() {
        assertThatThrownBy(() -> ChatTemplate.parse("ok\n{{ 'a\\u12' }}"))
                .isInstanceOf(TemplateException.class).hasMessage("TemplateSyntaxError: malformed escape '\\u12' in a string (line 2, column 6)");
        assertThatThrownBy(() -> ChatTemplate.parse("line one\nline two {{ x }}\n  {%- set y = \"\\xZ1\" %}"))
                .isInstanceOf(TemplateException.class).hasMessage("TemplateSyntaxError: malformed escape '\\xZ1' in a string (line 3, column 16)");
        assertThatThrownBy(() -> ChatTemplate.parse("{{ '\\u' }}")).isInstanceOf(TemplateException.class).hasMessageContaining("malformed escape");
    }

    @Test
    void notBindsLooserThanComparison() {
        assertThat(render("{{ not a == b }}", "a", 1, "b", 2)).isEqualTo("True");
        assertThat(render("{{ not a == b }}", "a", 1, "b", 1)).isEqualTo("False");
    }

    @Test
    void tojsonMatchesPythonJsonDumpsSpacingAndKeepsUnicode() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("city", "서울");
        m.put("n", List.of(1, 2.5, true));
        assertThat(render("{{ x | tojson }}", "x", m)).isEqualTo("{\"city\": \"서울\", \"n\": [1, 2.5, true]}");
        assertThat(render("{{ x | tojson(indent=2) }}", "x", Map.of("a", 1))).isEqualTo("{\n  \"a\": 1\n}");
        // json.dumps: an indent of 0 or below inserts newlines only (a negative one was a raw Java exception, found by
        // the template fuzzer); an indent that would fill memory is a template error
        assertThat(render("{{ x | tojson(indent=-1) }}", "x", Map.of("a", 1))).isEqualTo("{\n\"a\": 1\n}");
        assertThatThrownBy(() -> render("{{ x | tojson(indent=100000000) }}", "x", Map.of("a", 1)))
                .isInstanceOf(org.memwall.chat.TemplateException.class).hasMessageContaining("indent");
        assertThat(render("{{ 'a\nb' | indent(-3) }}", "x", 1)).isEqualTo("a\nb");
        assertThatThrownBy(() -> render("{{ 'a\nb' | indent(100000000) }}", "x", 1))
                .isInstanceOf(org.memwall.chat.TemplateException.class).hasMessageContaining("indent");
    }

    @Test
    void whitespaceControlTrimBlocksAndLstripBlocks() {
        assertThat(render("a\n  {% if true %}\nb\n  {% endif %}\nc")).isEqualTo("a\nb\nc");
        assertThat(render("a  {{- ' b ' -}}  c")).isEqualTo("a b c");
        assertThat(render("x {#- comment -#} y")).isEqualTo("xy");
    }

    @Test
    void rawBlocksKeepTheirTextAndEndAtTheirOwnEndraw() {
        assertThat(render("{% raw %}{{ x }}{% endraw %}!", "x", 1)).isEqualTo("{{ x }}!");
        // Whitespace control as Jinja2 3.x renders these (with trim_blocks and lstrip_blocks, as Hugging Face does).
        assertThat(render("a {%- raw -%} b {%- endraw %} c")).isEqualTo("ab c");
        assertThat(render("a {% raw %} b {% endraw %} c")).isEqualTo("a  b  c");
        assertThat(render("a\n{% raw %}\nb\n{% endraw %}\nc")).isEqualTo("a\n\nb\nc");
        assertThat(render("a{% raw -%}\n b {% endraw -%}\n c")).isEqualTo("ab c");
        // A tag right after endraw: its "{%" was taken for endraw's own, and the raw text ran on to include
        // "{% endraw %}"; at the very end of the source, a raw StringIndexOutOfBoundsException (found by the fuzzer).
        assertThat(render("{% raw %}x{% endraw %}{% if true %}y{% endif %}")).isEqualTo("xy");
        assertThatThrownBy(() -> ChatTemplate.parse("{% raw %}x{% endraw %}{%")).isInstanceOf(TemplateException.class);
    }

    @Test
    void loopVariablesNamespaceAndLoopControls() {
        String t = "{% set ns = namespace(n=0) %}{% for x in xs %}{% if x == 3 %}{% continue %}{% endif %}{% if x == 5 %}{% break %}{% endif %}"
                + "{{ loop.index }}:{{ x }}{{ ',' if not loop.last }}{% set ns.n = ns.n + x %}{% endfor %}|{{ ns.n }}";
        assertThat(render(t, "xs", List.of(1, 2, 3, 4, 5, 6))).isEqualTo("1:1,2:2,4:4,|7");
        assertThat(render("{% for x in xs %}{{ loop.previtem }}{% else %}empty{% endfor %}", "xs", List.of())).isEqualTo("empty");
    }

    @Test
    void macrosWithDefaultsAndCaller() {
        String t = "{% macro tag(name, body='x') %}<{{ name }}>{{ caller() if caller is defined else body }}</{{ name }}>{% endmacro %}"
                + "{{ tag('a') }}{% call tag('b') %}inner{% endcall %}";
        assertThat(render(t)).isEqualTo("<a>x</a><b>inner</b>");
    }

    @Test
    void pythonPrintingOfNoneBooleansListsAndDicts() {
        assertThat(render("{{ none }} {{ true }} {{ [1, 'a'] }} {{ {'k': none} }}")).isEqualTo("None True [1, 'a'] {'k': None}");
    }

    @Test
    void stringMethodsTemplatesUse() {
        assertThat(render("{{ ' a b '.strip().split(' ') }} {{ 'xyx'.lstrip('x') }} {{ 'abc'.startswith(('z', 'a')) }} {{ 'a-b'.replace('-', '+') }}"))
                .isEqualTo("['a', 'b'] yx True a+b");
        assertThat(render("{{ '{} is {name}'.format(1, name='one') }}")).isEqualTo("1 is one");
    }

    @Test
    void raiseExceptionStopsRenderingWithTheTemplatesMessage() {
        assertThatThrownBy(() -> render("a{{ raise_exception('roles must alternate') }}b"))
                .isInstanceOf(TemplateRaisedException.class).hasMessage("roles must alternate");
    }

    /** Integer powers by squaring: a huge exponent of 0, 1 or −1 used to loop once per unit (found by the fuzzer). */
    @Test
    void integerPowersOfHugeExponentsAreImmediateAndOverflowIsAnError() {
        assertThat(render("{{ 1 ** 999999999999999999 }} {{ (-1) ** 1000000000000000001 }} {{ 0 ** 123456789012345 }}"))
                .isEqualTo("1 -1 0");
        assertThat(render("{{ 2 ** 62 }} {{ 3 ** 39 }} {{ (-2) ** 63 }} {{ 7 ** 0 }}"))
                .isEqualTo("4611686018427387904 4052555153018976267 -9223372036854775808 1");
        assertThatThrownBy(() -> render("{{ 2 ** 64 }}")).isInstanceOf(org.memwall.MemwallException.class);
        assertThatThrownBy(() -> render("{{ 3 ** 40 }}")).isInstanceOf(org.memwall.MemwallException.class);
    }

    @Test
    void budgetsAbortHostileTemplatesQuickly() {
        long t0 = System.nanoTime();
        assertThatThrownBy(() -> render("{% for i in range(10**9) %}x{% endfor %}")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("loop iterations");
        assertThatThrownBy(() -> render("{{ 'a' * 10**10 }}")).isInstanceOf(TemplateException.class).hasMessageContaining("limit");
        assertThatThrownBy(() -> render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}")).isInstanceOf(TemplateException.class)
                .hasMessageContaining("depth");
        assertThatThrownBy(() -> render("{% for i in range(1000) %}{% for j in range(1000) %}{% for k in range(1000) %}{% endfor %}{% endfor %}{% endfor %}"))
                .isInstanceOf(TemplateException.class);
        assertThat((System.nanoTime() - t0) / 1e9).isLessThan(3.0);
    }

    @Test
    void attributeProbingReachesNothing() {
        assertThat(render("{{ x.__class__ }}|{{ x.getClass }}|{{ ''.__globals__ }}|{{ x.__init__ }}", "x", Map.of("a", 1))).isEqualTo("|||");
        assertThatThrownBy(() -> render("{{ ''.__class__.__mro__ }}")).isInstanceOf(TemplateException.class);
        assertThatThrownBy(() -> render("{{ xs.append(1) }}", "xs", List.of())).hasMessageContaining("SecurityError");
    }

    @Test
    void syntaxErrorsNameTheLine() {
        assertThatThrownBy(() -> ChatTemplate.parse("ok\n{% if %}")).isInstanceOf(TemplateException.class).hasMessageContaining("line 2");
        assertThatThrownBy(() -> ChatTemplate.parse("{{ x | nosuchfilter }}")).hasMessageContaining("no filter named 'nosuchfilter'");
    }
}
