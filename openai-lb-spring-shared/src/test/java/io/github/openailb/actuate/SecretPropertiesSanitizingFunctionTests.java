package io.github.openailb.actuate;

import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbSecretsAutoConfiguration;
import org.junit.jupiter.api.Test;

import org.springframework.boot.actuate.autoconfigure.context.properties.ConfigurationPropertiesReportEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.env.EnvironmentEndpointAutoConfiguration;
import org.springframework.boot.actuate.context.properties.ConfigurationPropertiesReportEndpoint;
import org.springframework.boot.actuate.env.EnvironmentEndpoint;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
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
		assertThat(SecretPropertiesSanitizingFunction.isSecret("spring.ai.azure.openai.api-key")).isFalse();
		assertThat(SecretPropertiesSanitizingFunction.isSecret(null)).isFalse();
	}

	private static String configprops(AssertableApplicationContext context) throws Exception {
		return new ObjectMapper()
			.writeValueAsString(context.getBean(ConfigurationPropertiesReportEndpoint.class).configurationProperties());
	}

	private static String env(AssertableApplicationContext context) throws Exception {
		return new ObjectMapper().writeValueAsString(context.getBean(EnvironmentEndpoint.class).environment(null));
	}

}
