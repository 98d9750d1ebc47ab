package io.microbpf.api.probe;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads typed values from a ConfigAdmin dictionary (as a map), collecting every bad value so the
 * user gets one message naming all of them. Unknown keys are reported too (a misspelt key would
 * otherwise be silently ignored).
 */
public final class ConfigReader {
    private static final Set<String> FRAMEWORK_KEYS = Set.of("service.pid", "service.factoryPid",
            "component.name", "component.id", "felix.fileinstall.filename", "service.bundleLocation",
            "objectClass", "service.id", "service.bundleid", "service.scope");

    private final String pid;
    private final Map<String, Object> props;
    private final Set<String> known = new LinkedHashSet<>();
    private final List<String> errors = new ArrayList<>();

    public ConfigReader(String pid, Map<String, ?> props) {
        this.pid = pid;
        this.props = props == null ? Map.of() : new HashMap<>(props);
    }

    public boolean getBoolean(String key, boolean def) {
        String v = raw(key);
        if (v == null) {
            return def;
        }
        if (v.equalsIgnoreCase("true") || v.equalsIgnoreCase("false")) {
            return Boolean.parseBoolean(v);
        }
        errors.add(key + "=" + v + " is not true or false");
        return def;
    }

    public long getLong(String key, long def, long min, long max) {
        String v = raw(key);
        if (v == null) {
            return def;
        }
        try {
            long n = Long.parseLong(v.replace("_", ""));
            if (n < min || n > max) {
                errors.add(key + "=" + v + " is outside " + min + ".." + max);
                return def;
            }
            return n;
        } catch (NumberFormatException e) {
            errors.add(key + "=" + v + " is not a whole number");
            return def;
        }
    }

    public int getInt(String key, int def, int min, int max) {
        return (int) getLong(key, def, min, max);
    }

    /** A power of two within [min, max] (ring buffer sizes). */
    public int getPowerOfTwo(String key, int def, int min, int max) {
        int before = errors.size();
        int n = getInt(key, def, min, max);
        if (errors.size() == before && Integer.bitCount(n) != 1) {
            errors.add(key + "=" + n + " is not a power of two");
            return def;
        }
        return n;
    }

    public String getString(String key, String def) {
        String v = raw(key);
        return v == null ? def : v;
    }

    /** One of {@code allowed} (case-insensitive), returned in lower case. */
    public String getChoice(String key, String def, String... allowed) {
        String v = raw(key);
        if (v == null) {
            return def;
        }
        for (String a : allowed) {
            if (a.equalsIgnoreCase(v)) {
                return a;
            }
        }
        errors.add(key + "=" + v + " is not one of " + Arrays.toString(allowed));
        return def;
    }

    /** Comma-separated list; empty when absent. */
    public List<String> getList(String key) {
        String v = raw(key);
        if (v == null || v.isBlank()) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (String s : v.split(",")) {
            if (!s.isBlank()) {
                out.add(s.strip());
            }
        }
        return Collections.unmodifiableList(out);
    }

    /** Adds a problem found by the caller's own checks. */
    public void error(String message) {
        errors.add(message);
    }

    public List<String> errors() {
        List<String> all = new ArrayList<>(errors);
        for (String key : props.keySet()) {
            if (!known.contains(key) && !isFrameworkKey(key)) {
                all.add("unknown key " + key);
            }
        }
        return all;
    }

    /** Keys the framework (ConfigAdmin, SCR, Felix, fileinstall) adds to every component's properties. */
    private static boolean isFrameworkKey(String key) {
        return FRAMEWORK_KEYS.contains(key) || key.startsWith("felix.") || key.startsWith("osgi.")
                || key.startsWith("component.") || key.startsWith("service.") || key.startsWith(".");
    }

    /** Throws one {@link ConfigException} listing every problem, if any. */
    public void validate() {
        List<String> all = errors();
        if (!all.isEmpty()) {
            throw new ConfigException("invalid configuration " + pid + ": " + String.join("; ", all));
        }
    }

    private String raw(String key) {
        known.add(key);
        Object v = props.get(key);
        if (v == null) {
            return null;
        }
        String s = v.toString().strip();
        return s.isEmpty() ? null : s;
    }
}
