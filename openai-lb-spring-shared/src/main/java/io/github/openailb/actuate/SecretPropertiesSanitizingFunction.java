package io.github.openailb.actuate;

import java.util.List;
import java.util.Locale;

import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.endpoint.SanitizingFunction;

/**
 * Masks openai-lb's secret properties ({@code openai.lb.backends[*].api-key} and any other
 * {@code openai.lb.*} key, secret, token or password) in {@code /actuator/configprops} and
 * {@code /actuator/env}, even when the application shows values there. Every spelling of the
 * property name is recognised: {@code api-key}, {@code apiKey}, {@code OPENAI_LB_BACKENDS_0_APIKEY}.
 */
public final class SecretPropertiesSanitizingFunction implements SanitizingFunction {

	private static final List<String> SECRET_ENDINGS = List.of("apikey", "secret", "token", "password");

	@Override
	public SanitizableData apply(SanitizableData data) {
		return isSecret(data.getKey()) ? data.withSanitizedValue() : data;
	}

	static boolean isSecret(String key) {
		if (key == null) {
			return false;
		}
		String canonical = key.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]", "");
		return canonical.startsWith("openailb") && SECRET_ENDINGS.stream().anyMatch(canonical::endsWith);
	}

}
