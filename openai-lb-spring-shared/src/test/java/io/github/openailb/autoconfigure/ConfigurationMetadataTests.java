package io.github.openailb.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import org.springframework.beans.BeanUtils;
import org.springframework.util.ClassUtils;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue #17: the configuration metadata IDEs read cannot drift from the properties class. The
 * annotation processor writes the top-level entries from the fields' Javadoc; the
 * {@code backends[]} entries are hand-written (the processor does not descend into list
 * elements), so they are compared here with the fields, their defaults and their Javadoc.
 */
class ConfigurationMetadataTests {

	private static final Path SOURCE = Path
		.of("../openai-lb-spring-shared/src/main/java/io/github/openailb/autoconfigure/OpenAiLbProperties.java");

	@Test
	void everyPropertyHasOneEntryAndEveryEntryAProperty() throws IOException {
		Map<String, JsonNode> metadata = metadata();
		TreeSet<String> expected = new TreeSet<>();
		OpenAiLbPropertyNames.of("openai.lb", OpenAiLbProperties.class)
			.leaves()
			.forEach((leaf) -> expected.add(leaf.name().replace("[*]", "[]")));
		expected.add("openai.lb.backends");
		assertThat(new TreeSet<>(metadata.keySet())).isEqualTo(expected);
	}

	@Test
	void everyEntryHasTheTypeOfItsPropertyAndADescription() throws IOException {
		Map<String, JsonNode> metadata = metadata();
		for (OpenAiLbPropertyNames.Leaf leaf : OpenAiLbPropertyNames.of("openai.lb", OpenAiLbProperties.class)
			.leaves()) {
			JsonNode entry = metadata.get(leaf.name().replace("[*]", "[]"));
			assertThat(entry).as(leaf.name()).isNotNull();
			// generic types are written with their arguments, as Boot's processor writes them
			assertThat(entry.path("type").asText().replaceAll("<.*>$", "")).as(leaf.name())
				.isEqualTo(ClassUtils.resolvePrimitiveIfNecessary(leaf.type()).getName());
			assertThat(entry.path("description").asText()).as(leaf.name()).isNotBlank();
		}
	}

	@Test
	void handWrittenBackendEntriesMatchTheFieldsJavadocAndDefaults() throws Exception {
		Map<String, JsonNode> metadata = metadata();
		Map<String, String> javadoc = backendFieldJavadoc();
		OpenAiLbProperties.Backend defaults = new OpenAiLbProperties.Backend();
		for (var property : BeanUtils.getPropertyDescriptors(OpenAiLbProperties.Backend.class)) {
			if (property.getWriteMethod() == null) {
				continue;
			}
			String name = "openai.lb.backends[]." + dashed(property.getName());
			JsonNode entry = metadata.get(name);
			assertThat(entry).as(name).isNotNull();
			assertThat(entry.path("description").asText()).as(name).isEqualTo(javadoc.get(property.getName()));
			Method getter = property.getReadMethod();
			Object value = getter.invoke(defaults);
			if (value == null || (value instanceof Map<?, ?> map && map.isEmpty())) {
				assertThat(entry.has("defaultValue")).as(name + " has no default").isFalse();
			}
			else if (value instanceof Enum<?> constant) {
				assertThat(entry.path("defaultValue").asText()).as(name)
					.isEqualTo(constant.name().toLowerCase(Locale.ROOT).replace('_', '-'));
			}
			else {
				assertThat(entry.path("defaultValue").asText()).as(name).isEqualTo(String.valueOf(value));
			}
		}
	}

	/** The processor's output, with the hand-written additional metadata merged in. */
	private static Map<String, JsonNode> metadata() throws IOException {
		try (InputStream in = ConfigurationMetadataTests.class
			.getResourceAsStream("/META-INF/spring-configuration-metadata.json")) {
			assertThat(in).as("generated metadata").isNotNull();
			Map<String, JsonNode> byName = new LinkedHashMap<>();
			for (JsonNode property : new ObjectMapper().readTree(in).path("properties")) {
				if (property.path("name").asText().startsWith("openai.lb.")) {
					assertThat(byName.put(property.path("name").asText(), property)).as("one entry each").isNull();
				}
			}
			return byName;
		}
	}

	/** Field name to Javadoc, cleaned as the annotation processor cleans it. */
	private static Map<String, String> backendFieldJavadoc() throws IOException {
		String source = Files.readString(SOURCE);
		int start = source.indexOf("public static class Backend {");
		int end = source.indexOf("\n\t}\n", start);
		Matcher field = Pattern.compile("/\\*\\*(.*?)\\*/\\s*private (?:final )?[\\w<>., ]+? (\\w+)(?: =[^;]*)?;",
				Pattern.DOTALL)
			.matcher(source.substring(start, end));
		Map<String, String> javadoc = new LinkedHashMap<>();
		while (field.find()) {
			javadoc.put(field.group(2), field.group(1).replaceAll("(?m)^\\s*\\*\\s?", " ").replaceAll("\\s+", " ").strip());
		}
		assertThat(javadoc).as("fields of Backend found in " + SOURCE).isNotEmpty();
		return javadoc;
	}

	private static String dashed(String camel) {
		return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(Locale.ROOT);
	}

}
