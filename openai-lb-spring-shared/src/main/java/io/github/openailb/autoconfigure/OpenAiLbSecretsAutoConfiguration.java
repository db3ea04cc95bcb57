package io.github.openailb.autoconfigure;

import io.github.openailb.actuate.SecretPropertiesSanitizingFunction;

import org.springframework.boot.actuate.endpoint.SanitizingFunction;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.env.Environment;

/**
 * Keeps openai-lb's and Spring AI's keys out of the actuator's {@code configprops} and
 * {@code env} endpoints, whatever their {@code show-values} setting, also where a key is part of
 * another value (the command line, {@code SPRING_APPLICATION_JSON}); active even when the
 * balancer is disabled, since the keys are still in the environment.
 */
@AutoConfiguration
@ConditionalOnClass(SanitizingFunction.class)
public class OpenAiLbSecretsAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean(SecretPropertiesSanitizingFunction.class)
	SecretPropertiesSanitizingFunction openAiLbSanitizingFunction(Environment environment) {
		return new SecretPropertiesSanitizingFunction(
				(environment instanceof ConfigurableEnvironment configurable) ? configurable : null);
	}

}
