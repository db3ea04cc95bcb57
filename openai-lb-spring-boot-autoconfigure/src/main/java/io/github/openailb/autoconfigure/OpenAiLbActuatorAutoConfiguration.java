package io.github.openailb.autoconfigure;

import io.github.openailb.actuate.OpenAiLbBackendStateMetrics;
import io.github.openailb.actuate.OpenAiLbHealthIndicator;
import io.github.openailb.actuate.OpenAiLbMetrics;
import io.github.openailb.core.BackendConfig;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Health indicator ({@code openAiLb}) and Micrometer metrics of the openai-lb balancer.
 */
@AutoConfiguration(after = OpenAiLbAutoConfiguration.class,
		afterName = { "org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnBean(LoadBalancer.class)
public class OpenAiLbActuatorAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(HealthIndicator.class)
	@ConditionalOnEnabledHealthIndicator("openAiLb")
	static class HealthConfiguration {

		@Bean
		@ConditionalOnMissingBean
		OpenAiLbHealthIndicator openAiLbHealthIndicator(LoadBalancer balancer) {
			return new OpenAiLbHealthIndicator(balancer);
		}

	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	@ConditionalOnBean(MeterRegistry.class)
	static class MetricsConfiguration {

		/**
		 * A listener the engine is built with: it must not need the engine itself, only the
		 * configuration to pre-register its meters.
		 */
		@Bean
		@ConditionalOnMissingBean
		OpenAiLbMetrics openAiLbMetrics(MeterRegistry registry, BalancerConfig config) {
			return new OpenAiLbMetrics(registry, config.backends().stream().map(BackendConfig::name).toList());
		}

		@Bean
		@ConditionalOnMissingBean
		OpenAiLbBackendStateMetrics openAiLbBackendStateMetrics(LoadBalancer balancer) {
			return new OpenAiLbBackendStateMetrics(balancer);
		}

	}

}
