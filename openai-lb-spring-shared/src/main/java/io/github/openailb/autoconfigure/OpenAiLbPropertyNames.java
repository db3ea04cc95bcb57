package io.github.openailb.autoconfigure;

import java.beans.PropertyDescriptor;
import java.time.Duration;
import java.time.Period;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.springframework.beans.BeanUtils;
import org.springframework.boot.context.properties.source.ConfigurationPropertyName;
import org.springframework.core.ResolvableType;
import org.springframework.util.unit.DataSize;

/**
 * The property names a {@code @ConfigurationProperties} class binds, read from its JavaBean
 * properties (so they cannot drift from the class), matched the way Spring Boot's relaxed binding
 * matches them: {@code apiKey}, {@code api-key}, {@code api_key} and {@code OPENAI_LB_..._APIKEY}
 * are one name.
 */
final class OpenAiLbPropertyNames {

	/** By relaxed key: list indexes as {@code []}, elements in Boot's uniform form, all joined. */
	private final Map<String, Leaf> leaves = new LinkedHashMap<>();

	/** Relaxed keys of the groups (nested objects and list entries), which a source may list empty. */
	private final Set<String> groups = new HashSet<>();

	private OpenAiLbPropertyNames() {
	}

	/**
	 * Read the names of a properties class.
	 * @param prefix the prefix it is bound to, e.g. {@code openai.lb}
	 * @param type the class
	 * @return its names
	 */
	static OpenAiLbPropertyNames of(String prefix, Class<?> type) {
		OpenAiLbPropertyNames names = new OpenAiLbPropertyNames();
		names.collect(prefix, type, 0);
		return names;
	}

	/**
	 * Return every leaf property, in declaration order of the getters (alphabetical per class).
	 * @return the leaves
	 */
	Collection<Leaf> leaves() {
		return this.leaves.values();
	}

	/**
	 * Find the property a name written by a user binds to.
	 * @param name the name
	 * @return the property, or {@code null} if it binds to nothing
	 */
	Leaf find(ConfigurationPropertyName name) {
		String key = relaxedKey(name, false);
		Leaf leaf = this.leaves.get(key);
		if (leaf != null) {
			return leaf;
		}
		for (Leaf candidate : this.leaves.values()) {
			if ((candidate.kind() == Kind.MAP && key.startsWith(candidate.key()))
					|| (candidate.kind() == Kind.LIST && key.equals(candidate.key() + "[]"))) {
				return candidate;
			}
		}
		return null;
	}

	/**
	 * Return whether a name is a group of properties, such as {@code openai.lb.backends} or
	 * {@code openai.lb.backends[0]}, which a YAML file lists when it is empty.
	 * @param name the name
	 * @return whether it is a group
	 */
	boolean isGroup(ConfigurationPropertyName name) {
		return this.groups.contains(relaxedKey(name, false));
	}

	/**
	 * Suggest the property a misspelt name was probably meant to be.
	 * @param name the misspelt name
	 * @return the suggestion with the user's indexes, or {@code null} if none is close
	 */
	String suggest(ConfigurationPropertyName name) {
		String written = name.toString();
		List<String> indexes = indexes(name);
		return this.leaves.values()
			.stream()
			.map((leaf) -> leaf.nameWith(indexes))
			.min(Comparator.comparingInt((candidate) -> distance(written, candidate)))
			.filter((candidate) -> distance(written, candidate) <= Math.max(2, lastElement(written).length() / 3))
			.orElse(null);
	}

	/**
	 * Return the user's name of a known property in its canonical form, e.g.
	 * {@code openai.lb.backends[2].api-key}.
	 * @param leaf the property
	 * @param name the name as written
	 * @return the canonical name
	 */
	static String canonical(Leaf leaf, ConfigurationPropertyName name) {
		return (leaf.kind() == Kind.MAP) ? name.toString() : leaf.nameWith(indexes(name));
	}

	/**
	 * The key two relaxed names share: uniform elements, indexes as {@code []} (or kept).
	 * @param name the name
	 * @param keepIndexes whether to keep the index values, to tell list entries apart
	 * @return the key
	 */
	static String relaxedKey(ConfigurationPropertyName name, boolean keepIndexes) {
		StringBuilder key = new StringBuilder();
		for (int i = 0; i < name.getNumberOfElements(); i++) {
			String element = name.getElement(i, ConfigurationPropertyName.Form.UNIFORM);
			if (isIndex(name, i)) {
				key.append('[').append(keepIndexes ? element : "").append(']');
			}
			else {
				key.append(element);
			}
		}
		return key.toString();
	}

	private static boolean isIndex(ConfigurationPropertyName name, int i) {
		String original = name.getElement(i, ConfigurationPropertyName.Form.ORIGINAL);
		return name.isNumericIndex(i) || (!original.isEmpty() && original.chars().allMatch(Character::isDigit));
	}

	private static List<String> indexes(ConfigurationPropertyName name) {
		List<String> indexes = new ArrayList<>();
		for (int i = 0; i < name.getNumberOfElements(); i++) {
			if (isIndex(name, i)) {
				indexes.add(name.getElement(i, ConfigurationPropertyName.Form.UNIFORM));
			}
		}
		return indexes;
	}

	private void collect(String path, Class<?> type, int depth) {
		if (depth > 5) {
			return;
		}
		this.groups.add(relaxedKey(ConfigurationPropertyName.of(path.replace("[*]", "[0]")), false));
		for (PropertyDescriptor property : BeanUtils.getPropertyDescriptors(type)) {
			if (property.getReadMethod() == null || "class".equals(property.getName())) {
				continue;
			}
			String name = path + "." + dashed(property.getName());
			Class<?> raw = property.getPropertyType();
			ResolvableType resolved = ResolvableType.forMethodReturnType(property.getReadMethod());
			if (isValue(raw)) {
				addIfWritable(property, name, raw, Kind.VALUE);
			}
			else if (Map.class.isAssignableFrom(raw)) {
				addIfWritable(property, name, raw, Kind.MAP);
			}
			else if (Collection.class.isAssignableFrom(raw) || raw.isArray()) {
				Class<?> element = raw.isArray() ? raw.getComponentType()
						: resolved.asCollection().getGeneric(0).toClass();
				if (isValue(element)) {
					addIfWritable(property, name, raw, Kind.LIST);
				}
				else {
					this.groups.add(relaxedKey(ConfigurationPropertyName.of(name), false));
					collect(name + "[*]", element, depth + 1);
				}
			}
			else {
				collect(name, raw, depth + 1);
			}
		}
	}

	private void addIfWritable(PropertyDescriptor property, String name, Class<?> type, Kind kind) {
		if (property.getWriteMethod() != null || kind != Kind.VALUE) {
			Leaf leaf = new Leaf(name, relaxedKey(ConfigurationPropertyName.of(name.replace("[*]", "[0]")), false),
					type, kind);
			this.leaves.put(leaf.key(), leaf);
		}
	}

	private static boolean isValue(Class<?> type) {
		return BeanUtils.isSimpleValueType(type) || type == Duration.class || type == Period.class
				|| type == DataSize.class;
	}

	private static String dashed(String camel) {
		return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
	}

	private static String lastElement(String name) {
		int dot = name.lastIndexOf('.');
		return (dot >= 0) ? name.substring(dot + 1) : name;
	}

	static int distance(String a, String b) {
		int[] previous = new int[b.length() + 1];
		int[] current = new int[b.length() + 1];
		for (int j = 0; j <= b.length(); j++) {
			previous[j] = j;
		}
		for (int i = 1; i <= a.length(); i++) {
			current[0] = i;
			for (int j = 1; j <= b.length(); j++) {
				int cost = (a.charAt(i - 1) == b.charAt(j - 1)) ? 0 : 1;
				current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
			}
			int[] swap = previous;
			previous = current;
			current = swap;
		}
		return previous[b.length()];
	}

	/** How a leaf binds. */
	enum Kind {

		/** One value. */
		VALUE,

		/** A list of values ({@code name=a,b} or {@code name[0]=a}). */
		LIST,

		/** A map: any name below it. */
		MAP

	}

	/**
	 * A property that takes a value.
	 *
	 * @param name canonical name, {@code [*]} standing for a list index
	 * @param key relaxed key
	 * @param type the Java type
	 * @param kind how it binds
	 */
	record Leaf(String name, String key, Class<?> type, Kind kind) {

		String nameWith(List<String> indexes) {
			StringBuilder result = new StringBuilder();
			int from = 0;
			int next = 0;
			for (int at = this.name.indexOf("[*]"); at >= 0; at = this.name.indexOf("[*]", from)) {
				result.append(this.name, from, at)
					.append('[')
					.append((next < indexes.size()) ? indexes.get(next++) : "0")
					.append(']');
				from = at + 3;
			}
			return result.append(this.name.substring(from)).toString();
		}

	}

}
