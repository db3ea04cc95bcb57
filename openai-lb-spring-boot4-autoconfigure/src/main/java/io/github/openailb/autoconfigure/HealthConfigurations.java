package io.github.openailb.autoconfigure;

import io.github.openailb.actuate.OpenAiLbHealthIndicator;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.redis.RedisSharedState;

import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * The health indicators on Spring Boot 4 ({@code org.springframework.boot.health.contributor}),
 * imported by the shared auto-configurations; the Boot 3 line has its own class of this name.
 */
final class HealthConfigurations {

	private HealthConfigurations() {
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(HealthIndicator.class)
	@ConditionalOnEnabledHealthIndicator("openAiLb")
	static class BalancerHealthConfiguration {

		@Bean
		@ConditionalOnMissingBean
		OpenAiLbHealthIndicator openAiLbHealthIndicator(LoadBalancer balancer) {
			return new OpenAiLbHealthIndicator(balancer);
		}

		/** {@code readiness} = {@code readinessState} + {@code openAiLb}, unless the user set the group up. */
		@Bean
		@ConditionalOnMissingBean
		ReadinessGroupPostProcessor openAiLbReadinessGroupPostProcessor(Environment environment) {
			return new ReadinessGroupPostProcessor(environment);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(HealthIndicator.class)
	@ConditionalOnEnabledHealthIndicator("openAiLbState")
	static class StateHealthConfiguration {

		@Bean
		@ConditionalOnMissingBean(name = "openAiLbStateHealthIndicator")
		HealthIndicator openAiLbStateHealthIndicator(RedisSharedState sharedState) {
			return () -> Health.up().withDetails(sharedState.healthDetails()).build();
		}

	}

}
