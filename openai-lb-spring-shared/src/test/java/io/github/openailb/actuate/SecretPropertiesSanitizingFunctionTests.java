package io.github.openailb.actuate;

import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbSecretsAutoConfiguration;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.autoconfigure.context.properties.ConfigurationPropertiesReportEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.env.EnvironmentEndpointAutoConfiguration;
import org.springframework.boot.actuate.context.properties.ConfigurationPropertiesReportEndpoint;
import org.springframework.boot.actuate.endpoint.SanitizableData;
import org.springframework.boot.actuate.env.EnvironmentEndpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.core.env.MapPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Keys stay masked in {@code /actuator/configprops} and {@code /actuator/env} even when the
 * application asks the actuator to show values.
 */
class SecretPropertiesSanitizingFunctionTests {

	private static final String KEY = "sk-live-0123456789abcdef";

	private static final String ENV_KEY = "sk-env-fedcba9876543210";

	private final ApplicationContextRunner runner = new ApplicationContextRunner()
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class,
				ConfigurationPropertiesReportEndpointAutoConfiguration.class,
				EnvironmentEndpointAutoConfiguration.class))
		.withInitializer((context) -> context.getEnvironment()
			.getPropertySources()
			.addLast(new SystemEnvironmentPropertySource("systemEnvironment",
					Map.of("OPENAI_LB_BACKENDS_1_APIKEY", ENV_KEY))))
		.withPropertyValues("management.endpoints.web.exposure.include=configprops,env",
				"management.endpoint.configprops.show-values=always", "management.endpoint.env.show-values=always",
				"openai.lb.backends[0].name=primary", "openai.lb.backends[0].url=https://p.openai.azure.com",
				"openai.lb.backends[0].api-key=" + KEY, "openai.lb.backends[1].name=secondary",
				"openai.lb.backends[1].url=https://s.openai.azure.com");

	@Test
	void keysAreMaskedWhileOtherValuesShow() {
		this.runner.withConfiguration(AutoConfigurations.of(OpenAiLbSecretsAutoConfiguration.class))
			.run((context) -> {
				String configprops = configprops(context);
				assertThat(configprops).doesNotContain(KEY, ENV_KEY).contains("p.openai.azure.com").contains("******");
				String env = env(context);
				assertThat(env).doesNotContain(KEY, ENV_KEY).contains("p.openai.azure.com").contains("******");
			});
	}

	@Test
	void withoutTheFunctionShowValuesAlwaysWouldShowTheKeys() {
		this.runner.run((context) -> {
			assertThat(configprops(context)).contains(KEY);
			assertThat(env(context)).contains(KEY, ENV_KEY);
		});
	}

	@Test
	void recognisesEverySpellingOfOurSecretsAndNothingElse() {
		assertThat(SecretPropertiesSanitizingFunction.isSecret("openai.lb.backends[0].api-key")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("openai.lb.backends[12].apiKey")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("OPENAI_LB_BACKENDS_0_API_KEY")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("openai.lb.backends[0].url")).isFalse();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("openai.lb.backends[0].managed-identity-client-id"))
			.isFalse();
		assertThat(SecretPropertiesSanitizingFunction.isSecret(null)).isFalse();
	}

	@Test
	void recognisesSpringAiKeysByName() {
		assertThat(SecretPropertiesSanitizingFunction.isSecret("spring.ai.azure.openai.api-key")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("spring.ai.azure.openai.apiKey")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("spring.ai.openai.api-key")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("spring.ai.openai.embedding.api-key")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("SPRING_AI_AZURE_OPENAI_API_KEY")).isTrue();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("spring.ai.openai.base-url")).isFalse();
		assertThat(SecretPropertiesSanitizingFunction.isSecret("spring.ai.openai.chat.model")).isFalse();
	}

	@Test
	void masksAConfiguredKeyInsideAnyOtherValue() {
		StandardEnvironment environment = new StandardEnvironment();
		environment.getPropertySources()
			.addFirst(new MapPropertySource("keys", Map.of("openai.lb.backends[0].api-key", KEY,
					"openai.lb.backends[1].api-key", "${EAST_KEY}", "EAST_KEY", ENV_KEY,
					"openai.lb.backends[2].api-key", "short", "spring.ai.openai.api-key", "openai-lb")));
		SecretPropertiesSanitizingFunction function = new SecretPropertiesSanitizingFunction(environment);
		assertThat(function.apply(data("sun.java.command", "app.jar --openai.lb.backends[0].api-key=" + KEY))
			.getValue()).isEqualTo("app.jar --openai.lb.backends[0].api-key=******");
		assertThat(function.apply(data("SPRING_APPLICATION_JSON", "{\"k\":\"" + ENV_KEY + "\"}")).getValue())
			.isEqualTo("{\"k\":\"******\"}");
		// too short to be a key, and the stand-in key openai-lb gives Spring AI, are ordinary text
		assertThat(function.apply(data("note", "a short text")).getValue()).isEqualTo("a short text");
		assertThat(function.apply(data("spring.ai.openai.base-url", "http://openai-lb")).getValue())
			.isEqualTo("http://openai-lb");
	}

	private static SanitizableData data(String key, Object value) {
		return new SanitizableData(null, key, value);
	}

	private static String configprops(AssertableApplicationContext context) throws Exception {
		return new ObjectMapper()
			.writeValueAsString(context.getBean(ConfigurationPropertiesReportEndpoint.class).configurationProperties());
	}

	private static String env(AssertableApplicationContext context) throws Exception {
		return new ObjectMapper().writeValueAsString(context.getBean(EnvironmentEndpoint.class).environment(null));
	}

}
