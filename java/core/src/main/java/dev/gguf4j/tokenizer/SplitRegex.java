package dev.gguf4j.tokenizer;

import dev.gguf4j.Gguf4jException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * One pre-tokenizer regex as llama.cpp's {@code unicode_regex_split} runs it, compiled to a Java pattern over
 * one of two views of the text.
 *
 * <ul>
 * <li>{@link View#CATEGORY}: the regex uses {@code \p{N}}, {@code \p{L}}, {@code \p{P}}, {@code \p{M}} or
 * {@code \p{S}}. llama.cpp then matches on a "collapsed" text in which ASCII stays as is, non-ASCII whitespace
 * becomes U+000B and every other non-ASCII code point becomes a placeholder for its category; each {@code \p{X}}
 * becomes [placeholder + the ASCII members of X]. This view reproduces that exactly (placeholders
 * U+E0D0..U+E0D5), including its quirks (e.g. ASCII '~' is not in {@code \p{S}}, non-ASCII whitespace is only
 * {@code \s}). llama.cpp's hand-written splitters for the GPT-2 and LLaMA-3 regexes behave as this view does;
 * {@code TokenizerRegexTest} checks that on random text.</li>
 * <li>{@link View#CODE_POINT}: no category classes; llama.cpp matches code points with {@code std::wregex}
 * after replacing non-ASCII whitespace by U+000B. Here too.</li>
 * </ul>
 *
 * <p>The pattern text is translated from ECMAScript to Java syntax: a '[' inside a class is literal, '&amp;' inside
 * a class is escaped (Java's {@code &&} is intersection), {@code $} outside a class means end of input ({@code
 * \z}), {@code \v} is U+000B. In both views {@code \s} means ASCII whitespace, as in std::regex.
 */
final class SplitRegex {
    enum View {
        CATEGORY,
        CODE_POINT
    }

    static final char MARK_OTHER = '\uE0D0';
    static final char MARK_NUMBER = '\uE0D1';
    static final char MARK_LETTER = '\uE0D2';
    static final char MARK_PUNCTUATION = '\uE0D3';
    static final char MARK_ACCENT = '\uE0D4';
    static final char MARK_SYMBOL = '\uE0D5';

    private final String source;
    private final View view;
    private final Pattern pattern;

    private SplitRegex(String source, View view, Pattern pattern) {
        this.source = source;
        this.view = view;
        this.pattern = pattern;
    }

    String source() {
        return source;
    }

    View view() {
        return view;
    }

    Pattern pattern() {
        return pattern;
    }

    static SplitRegex compile(String source) {
        View view = usesCategories(source) ? View.CATEGORY : View.CODE_POINT;
        if (view == View.CATEGORY) {
            for (int i = 0; i < source.length(); i++) {
                if (source.charAt(i) >= 0x80) {
                    // llama.cpp refuses this combination too (at tokenization time)
                    throw new Gguf4jException("pre-tokenizer regex mixes unicode categories and non-ASCII characters: "
                            + source);
                }
            }
        }
        String java = translate(source, view);
        try {
            return new SplitRegex(source, view, Pattern.compile(java));
        } catch (PatternSyntaxException e) {
            throw new Gguf4jException("pre-tokenizer regex cannot be compiled: " + source, e);
        }
    }

    private static boolean usesCategories(String s) {
        for (String c : new String[] {"\\p{N}", "\\p{L}", "\\p{P}", "\\p{M}", "\\p{S}"}) {
            if (s.contains(c)) {
                return true;
            }
        }
        return false;
    }

    /** Members of {@code \p{X}} in the category view, as the inside of a Java character class. */
    private static String categoryClass(char x) {
        return switch (x) {
            case 'N' -> "\\x{E0D1}0-9";
            case 'L' -> "\\x{E0D2}A-Za-z";
            case 'P' -> "\\x{E0D3}!-#%-*,-/:-;?-@\\[-\\]_\\{\\}";
            case 'M' -> "\\x{E0D4}";
            case 'S' -> "\\x{E0D5}\\$\\+<->\\^`\\|";
            default -> null;
        };
    }

    private static String translate(String s, View view) {
        StringBuilder out = new StringBuilder(s.length() + 32);
        boolean inClass = false;
        int i = 0;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (c == '\\' && i + 1 < s.length()) {
                char n = s.charAt(i + 1);
                if (view == View.CATEGORY && n == 'p' && i + 4 < s.length() && s.charAt(i + 2) == '{'
                        && s.charAt(i + 4) == '}' && categoryClass(s.charAt(i + 3)) != null) {
                    String members = categoryClass(s.charAt(i + 3));
                    out.append(inClass ? members : "[" + members + "]");
                    i += 5;
                    continue;
                }
                if (n == 'v') {
                    out.append("\\x0B");
                } else {
                    out.append(c).append(n);
                }
                i += 2;
                continue;
            }
            if (inClass) {
                if (c == ']') {
                    inClass = false;
                    out.append(c);
                } else if (c == '[' || c == '&') {
                    out.append('\\').append(c);
                } else {
                    out.append(c);
                }
            } else if (c == '[') {
                inClass = true;
                out.append(c);
                // ECMAScript: a leading '^' negates; a ']' right after '[' or '[^' would close an empty class,
                // which llama.cpp's tables never use
                if (i + 1 < s.length() && s.charAt(i + 1) == '^') {
                    out.append('^');
                    i++;
                }
            } else if (c == '$') {
                out.append("\\z");
            } else {
                out.append(c);
            }
            i++;
        }
        return out.toString();
    }

    /** The category view of {@code cps}: one char per code point. */
    static String categoryView(int[] cps) {
        char[] v = new char[cps.length];
        for (int i = 0; i < cps.length; i++) {
            int cp = cps[i];
            if (cp < 0x80) {
                v[i] = (char) cp;
            } else if (UnicodeFlags.isWhitespace(cp)) {
                v[i] = '\u000B';
            } else {
                v[i] = switch (UnicodeFlags.category(cp)) {
                    case UnicodeFlags.NUMBER -> MARK_NUMBER;
                    case UnicodeFlags.LETTER -> MARK_LETTER;
                    case UnicodeFlags.PUNCTUATION -> MARK_PUNCTUATION;
                    case UnicodeFlags.MARK -> MARK_ACCENT;
                    case UnicodeFlags.SYMBOL -> MARK_SYMBOL;
                    default -> MARK_OTHER;
                };
            }
        }
        return new String(v);
    }

    /**
     * Splits each segment {@code [ends[k-1], ends[k])} (code point indices) into matches and the gaps between
     * them, as llama.cpp's {@code unicode_regex_split_stl} does. {@code text} is the view; {@code charOfCp} maps
     * code point index to char index in it and {@code cpOfChar} back (both null when the view has one char per
     * code point).
     */
    void split(String text, int[] charOfCp, int[] cpOfChar, IntList ends, IntList out) {
        Matcher m = pattern.matcher(text);
        int segStart = 0;
        for (int k = 0; k < ends.size(); k++) {
            int segEnd = ends.get(k);
            int cs = charOfCp == null ? segStart : charOfCp[segStart];
            int ce = charOfCp == null ? segEnd : charOfCp[segEnd];
            m.region(cs, ce);
            int prev = cs;
            while (m.find()) {
                int ms = m.start();
                int me = m.end();
                if (me == ms) {
                    continue;
                }
                if (ms > prev) {
                    out.add(cpOfChar == null ? ms : cpOfChar[ms]);
                }
                out.add(cpOfChar == null ? me : cpOfChar[me]);
                prev = me;
            }
            if (prev < ce) {
                out.add(segEnd);
            }
            segStart = segEnd;
        }
    }
}
