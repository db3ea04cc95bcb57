package io.github.openailb.actuate;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.EnumerablePropertySource;
import org.springframework.core.env.PropertySource;

/**
 * Masks secrets in {@code /actuator/configprops} and {@code /actuator/env}, even when the
 * application shows values there:
 * <ul>
 * <li>openai-lb's secret properties ({@code openai.lb.backends[*].api-key} and any other
 * {@code openai.lb.*} key, secret, token or password) and Spring AI's key properties
 * ({@code spring.ai.azure.openai.api-key}, {@code spring.ai.openai.api-key}, any
 * {@code spring.ai.*api-key}), by name, in every spelling: {@code api-key}, {@code apiKey},
 * {@code OPENAI_LB_BACKENDS_0_APIKEY};</li>
 * <li>every occurrence of a configured key (at least {@value #MIN_KEY_LENGTH} characters) inside
 * any other value, wherever it comes from: {@code sun.java.command} holding the command line,
 * {@code SPRING_APPLICATION_JSON}, other environment variables.</li>
 * </ul>
 */
public final class SecretPropertiesSanitizingFunction implements SanitizingFunction {

	/** Shorter values would mask ordinary text, and are no real keys. */
	static final int MIN_KEY_LENGTH = 8;

	private static final List<String> SECRET_ENDINGS = List.of("apikey", "secret", "token", "password");

	/** The stand-in key openai-lb gives Spring AI; it is no secret and is part of the balanced URL. */
	private static final String PLACEHOLDER_KEY = "openai-lb";

	private final ConfigurableEnvironment environment;

	private volatile Set<String> keys;

	/**
	 * Create a function that masks secret properties by name only.
	 */
	public SecretPropertiesSanitizingFunction() {
		this(null);
	}

	/**
	 * Create a function that masks secret properties by name and, inside any other value, the
	 * keys configured in this environment.
	 * @param environment the application's environment, or {@code null} to mask by name only
	 */
	public SecretPropertiesSanitizingFunction(ConfigurableEnvironment environment) {
		this.environment = environment;
	}

	@Override
	public SanitizableData apply(SanitizableData data) {
		if (isSecret(data.getKey())) {
			return data.withSanitizedValue();
		}
		Object value = data.getValue();
		if (value == null || this.environment == null) {
			return data;
		}
		String text = value.toString();
		String masked = text;
		for (String key : keys()) {
			if (masked.contains(key)) {
				masked = masked.replace(key, SanitizableData.SANITIZED_VALUE);
			}
		}
		if (masked.equals(text)) {
			return data;
		}
		// keep the rest of a command line readable; other objects are masked whole
		return (value instanceof CharSequence) ? data.withValue(masked) : data.withSanitizedValue();
	}

	/** The configured keys, read once: the environment's sources are complete by the time an endpoint asks. */
	private Set<String> keys() {
		Set<String> keys = this.keys;
		if (keys == null) {
			keys = configuredKeys(this.environment);
			this.keys = keys;
		}
		return keys;
	}

	static Set<String> configuredKeys(ConfigurableEnvironment environment) {
		Set<String> keys = new LinkedHashSet<>();
		for (PropertySource<?> source : environment.getPropertySources()) {
			if (source instanceof EnumerablePropertySource<?> enumerable) {
				for (String name : enumerable.getPropertyNames()) {
					if (isSecret(name)) {
						addKey(keys, environment, enumerable.getProperty(name));
					}
				}
			}
		}
		return Set.copyOf(keys);
	}

	private static void addKey(Set<String> keys, ConfigurableEnvironment environment, Object value) {
		if (value == null) {
			return;
		}
		String raw = value.toString();
		String resolved;
		try {
			resolved = environment.resolvePlaceholders(raw);
		}
		catch (IllegalArgumentException ex) {
			// a circular placeholder: the raw value is all there is
			resolved = raw;
		}
		// the key itself, and what a placeholder such as ${EASTUS_KEY} resolves to
		for (String key : new String[] { raw, resolved }) {
			String trimmed = key.strip();
			if (trimmed.length() >= MIN_KEY_LENGTH && !trimmed.contains("${") && !trimmed.equals(PLACEHOLDER_KEY)) {
				keys.add(trimmed);
			}
		}
	}

	static boolean isSecret(String key) {
		if (key == null) {
			return false;
		}
		String canonical = key.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
		if (canonical.startsWith("openailb")) {
			return SECRET_ENDINGS.stream().anyMatch(canonical::endsWith);
		}
		return canonical.startsWith("springai") && canonical.endsWith("apikey");
	}

}
