package dev.gguf4j.grammar;

import java.util.ArrayList;
import java.util.List;

/**
 * GBNF alternatives for the decimal integers in a range, without leading zeros or "-0", at most 16 digits (the
 * length llama.cpp's JSON grammars allow): {@code Long.MIN_VALUE} / {@code Long.MAX_VALUE} mean unbounded.
 */
final class IntRange {
    static final int MAX_DIGITS = 16;
    private static final long LIMIT = 9_999_999_999_999_999L; // the largest 16-digit number

    private IntRange() {
    }

    static String gbnf(long min, long max) {
        List<String> alts = new ArrayList<>();
        if (min < 0) {
            // -|x| for x in [min, min(max, -1)]: "-" then the magnitudes [max(1, -max), -min]
            long lo = max < 0 ? -max : 1;
            long hi = min == Long.MIN_VALUE ? LIMIT : Math.min(LIMIT, -min);
            if (lo <= hi) {
                alts.add("\"-\" (" + String.join(" | ", natural(lo, hi)) + ")");
            }
        }
        if (max >= 0) {
            long lo = Math.max(0, min);
            long hi = Math.min(LIMIT, max);
            if (lo <= hi) {
                alts.addAll(natural(lo, hi));
            }
        }
        return String.join(" | ", alts);
    }

    /** Alternatives for [lo, hi], 0 <= lo <= hi, split by number of digits. */
    private static List<String> natural(long lo, long hi) {
        List<String> alts = new ArrayList<>();
        int dl = digits(lo);
        int dh = digits(hi);
        for (int d = dl; d <= dh; d++) {
            long a = Math.max(lo, d == 1 ? 0 : pow10(d - 1));
            long b = Math.min(hi, pow10(d) - 1);
            if (a <= b) {
                alts.add(sameLength(Long.toString(a), Long.toString(b)));
            }
        }
        return alts;
    }

    /** Numbers between two digit strings of the same length. */
    private static String sameLength(String a, String b) {
        int i = 0;
        while (i < a.length() && a.charAt(i) == b.charAt(i)) {
            i++;
        }
        String prefix = i > 0 ? "\"" + a.substring(0, i) + "\"" : "";
        if (i == a.length()) {
            return prefix;
        }
        int rest = a.length() - i - 1;
        char x = a.charAt(i);
        char y = b.charAt(i);
        String aRest = a.substring(i + 1);
        String bRest = b.substring(i + 1);
        List<String> alts = new ArrayList<>();
        if (aRest.equals("0".repeat(rest)) && bRest.equals("9".repeat(rest))) {
            alts.add(digitClass(x, y) + any(rest));
        } else {
            alts.add(rest == 0 ? digitClass(x, x) : digitClass(x, x) + " (" + sameLength(aRest, "9".repeat(rest)) + ")");
            if (y - x >= 2) {
                alts.add(digitClass((char) (x + 1), (char) (y - 1)) + any(rest));
            }
            alts.add(rest == 0 ? digitClass(y, y) : digitClass(y, y) + " (" + sameLength("0".repeat(rest), bRest) + ")");
        }
        String body = alts.size() == 1 ? alts.get(0) : "(" + String.join(" | ", alts) + ")";
        return prefix.isEmpty() ? body : prefix + " " + body;
    }

    private static String any(int n) {
        return n == 0 ? "" : n == 1 ? " [0-9]" : " [0-9]{" + n + "}";
    }

    private static String digitClass(char x, char y) {
        return x == y ? "[" + x + "]" : "[" + x + "-" + y + "]";
    }

    private static int digits(long v) {
        return Long.toString(v).length();
    }

    private static long pow10(int n) {
        long p = 1;
        for (int i = 0; i < n; i++) {
            p *= 10;
        }
        return p;
    }
}
