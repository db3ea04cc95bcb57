package io.github.openailb.autoconfigure;

import java.util.List;

import io.github.openailb.actuate.OpenAiLbBackendStateMetrics;
import io.github.openailb.actuate.OpenAiLbEndpoint;
import io.github.openailb.actuate.OpenAiLbMetrics;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.LoadBalancer;
import io.micrometer.core.instrument.MeterRegistry;

import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/**
 * Health indicator ({@code openAiLb}), Micrometer metrics and the {@code openailb} actuator
 * endpoint of the openai-lb balancer.
 */
// Boot 3 and Boot 4 names: this class is compiled for both lines; the health indicator, whose
// types differ between them, comes from each line's HealthConfigurations
@AutoConfiguration(after = OpenAiLbAutoConfiguration.class,
		afterName = { "org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration",
				"org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
				"org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration" })
@ConditionalOnBean(LoadBalancer.class)
@Import(HealthConfigurations.BalancerHealthConfiguration.class)
public class OpenAiLbActuatorAutoConfiguration {

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(MeterRegistry.class)
	@ConditionalOnBean(MeterRegistry.class)
	static class MetricsConfiguration {

		/**
		 * A listener the engine is built with: it must not need the engine itself, only the
		 * configuration to pre-register its meters (absent when the application defines its own
		 * engine: meters are then registered as backends are seen).
		 */
		@Bean
		@ConditionalOnMissingBean
		OpenAiLbMetrics openAiLbMetrics(MeterRegistry registry, ObjectProvider<BalancerConfig> config) {
			BalancerConfig known = config.getIfAvailable();
			return (known != null) ? new OpenAiLbMetrics(registry, known) : new OpenAiLbMetrics(registry, List.of());
		}

		@Bean
		@ConditionalOnMissingBean
		OpenAiLbBackendStateMetrics openAiLbBackendStateMetrics(LoadBalancer balancer) {
			return new OpenAiLbBackendStateMetrics(balancer);
		}

	}

	/** Only where the application exposes it (web or JMX); its writes need access=unrestricted. */
	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(name = { "org.springframework.boot.actuate.endpoint.annotation.Endpoint",
			"org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint" })
	@ConditionalOnAvailableEndpoint(OpenAiLbEndpoint.class)
	static class EndpointConfiguration {

		@Bean
		@ConditionalOnMissingBean
		OpenAiLbEndpoint openAiLbEndpoint(LoadBalancer balancer) {
			return new OpenAiLbEndpoint(balancer);
		}

	}

}
