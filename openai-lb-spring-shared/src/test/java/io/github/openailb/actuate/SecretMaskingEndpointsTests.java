package io.github.openailb.actuate;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.openailb.autoconfigure.OpenAiLbAutoConfiguration;
import io.github.openailb.autoconfigure.OpenAiLbSecretsAutoConfiguration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.autoconfigure.context.properties.ConfigurationPropertiesReportEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.env.EnvironmentEndpointAutoConfiguration;
import org.springframework.boot.actuate.context.properties.ConfigurationPropertiesReportEndpoint;
import org.springframework.boot.actuate.env.EnvironmentEndpoint;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.autoconfigure.ImportAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.MutablePropertySources;
import org.springframework.core.env.PropertiesPropertySource;
import org.springframework.core.env.StandardEnvironment;
import org.springframework.core.env.SystemEnvironmentPropertySource;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A whole application with {@code show-values=always} on the {@code env} and {@code configprops}
 * endpoints: a key shows nowhere, whichever source it came from, while other values do show.
 */
class SecretMaskingEndpointsTests {

	private static final String URL = "https://east.openai.azure.com";

	private static final String[] SHOW_VALUES = { "--management.endpoints.web.exposure.include=env,configprops",
			"--management.endpoint.env.show-values=always", "--management.endpoint.configprops.show-values=always",
			"--openai.lb.backends[0].name=east", "--openai.lb.backends[0].url=" + URL };

	private ConfigurableApplicationContext context;

	@AfterEach
	void close() {
		if (this.context != null) {
			this.context.close();
		}
	}

	@Test
	void aKeyOnTheCommandLineIsMaskedInTheJavaCommandToo() throws Exception {
		String key = "sk-command-line-0123456789";
		run(Endpoints.class, Map.of(), "app.jar --openai.lb.backends[0].api-key=" + key,
				"--openai.lb.backends[0].api-key=" + key);
		assertThat(env()).doesNotContain(key).contains("app.jar --openai.lb.backends[0].api-key=******", URL);
		assertThat(configprops()).doesNotContain(key).contains(URL);
	}

	@Test
	void aKeyInSpringApplicationJsonIsMasked() throws Exception {
		String key = "sk-application-json-0123456789";
		run(Endpoints.class, Map.of("SPRING_APPLICATION_JSON",
				"{\"openai\":{\"lb\":{\"backends\":[{\"name\":\"east\",\"url\":\"" + URL + "\",\"api-key\":\"" + key
						+ "\"}]}}}"),
				"app.jar");
		String env = env();
		assertThat(env).doesNotContain(key).contains("SPRING_APPLICATION_JSON", "spring.application.json", URL);
		assertThat(configprops()).doesNotContain(key).contains(URL);
	}

	@Test
	void aKeyInAnEnvironmentVariableOfAnyNameIsMasked() throws Exception {
		String key = "sk-environment-0123456789";
		// the README's pattern: the key in a variable of the user's choosing, referenced by a placeholder
		run(Endpoints.class, Map.of("EASTUS_KEY", key, "OPENAI_LB_BACKENDS_1_APIKEY", key + "-b"), "app.jar",
				"--openai.lb.backends[0].api-key=${EASTUS_KEY}");
		String env = env();
		assertThat(env).doesNotContain(key).contains("EASTUS_KEY", "OPENAI_LB_BACKENDS_1_APIKEY", URL);
		assertThat(configprops()).doesNotContain(key).contains(URL);
	}

	@Test
	void springAiKeysAreMaskedByName() throws Exception {
		String azure = "azure-key-0123456789";
		String openAi = "sk-openai-0123456789";
		run(WholeApplication.class, Map.of("SPRING_AI_OPENAI_EMBEDDING_API_KEY", "sk-embedding-0123456789"),
				"app.jar --spring.ai.azure.openai.api-key=" + azure, "--spring.ai.azure.openai.api-key=" + azure,
				"--spring.ai.openai.api-key=" + openAi, "--openai.lb.backends[0].api-key=sk-east-0123456789");
		assertThat(env()).doesNotContain(azure, openAi, "sk-embedding-0123456789")
			.contains("spring.ai.azure.openai.api-key", "spring.ai.openai.api-key");
		String configprops = configprops();
		// Spring AI's own properties are in the report, their keys are not
		assertThat(configprops).contains("spring.ai.openai").doesNotContain(azure, openAi, "sk-east-0123456789");
	}

	/**
	 * Run the application as if started by this command line, with these environment variables
	 * (instead of the test JVM's own).
	 */
	private void run(Class<?> configuration, Map<String, Object> variables, String javaCommand, String... args) {
		Properties system = new Properties();
		system.putAll(System.getProperties());
		system.setProperty("sun.java.command", javaCommand);
		Map<String, Object> environmentVariables = new HashMap<>(variables);
		StandardEnvironment environment = new StandardEnvironment() {

			@Override
			protected void customizePropertySources(MutablePropertySources sources) {
				sources.addLast(new PropertiesPropertySource(SYSTEM_PROPERTIES_PROPERTY_SOURCE_NAME, system));
				sources.addLast(new SystemEnvironmentPropertySource(SYSTEM_ENVIRONMENT_PROPERTY_SOURCE_NAME,
						environmentVariables));
			}

		};
		String[] all = new String[SHOW_VALUES.length + args.length];
		System.arraycopy(SHOW_VALUES, 0, all, 0, SHOW_VALUES.length);
		System.arraycopy(args, 0, all, SHOW_VALUES.length, args.length);
		this.context = new SpringApplicationBuilder(configuration).web(WebApplicationType.NONE)
			.environment(environment)
			.logStartupInfo(false)
			.run(all);
	}

	private String env() throws Exception {
		return new ObjectMapper().writeValueAsString(this.context.getBean(EnvironmentEndpoint.class).environment(null));
	}

	private String configprops() throws Exception {
		return new ObjectMapper().writeValueAsString(
				this.context.getBean(ConfigurationPropertiesReportEndpoint.class).configurationProperties());
	}

	@Configuration(proxyBeanMethods = false)
	@ImportAutoConfiguration({ OpenAiLbAutoConfiguration.class, OpenAiLbSecretsAutoConfiguration.class,
			EnvironmentEndpointAutoConfiguration.class, ConfigurationPropertiesReportEndpointAutoConfiguration.class })
	static class Endpoints {

	}

	@Configuration(proxyBeanMethods = false)
	@EnableAutoConfiguration
	static class WholeApplication {

	}

}
