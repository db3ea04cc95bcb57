package io.github.openailb.testsupport;

import java.util.Map;

import io.github.resilience4j.springboot3.circuitbreaker.autoconfigure.CircuitBreakerAutoConfiguration;

import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.web.client.RestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.ClientHttpConnectorAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.WebClientAutoConfiguration;
import org.springframework.context.ApplicationContext;

/**
 * What the shared tests need from Spring Boot 3, whose classes sit elsewhere in Boot 4. The Boot 4
 * module has a class of the same name with the same members.
 */
public final class BootLine {

	/** Boot's {@code WebClient.Builder} over the application's {@code ClientHttpConnector}. */
	public static final Class<?>[] WEB_CLIENT = { ClientHttpConnectorAutoConfiguration.class,
			WebClientAutoConfiguration.class };

	/** Boot's {@code RestClient.Builder} with its message converters. */
	public static final Class<?>[] REST_CLIENT = { HttpMessageConvertersAutoConfiguration.class,
			RestClientAutoConfiguration.class };

	/** Boot's Redis connection factories. */
	public static final Class<?>[] REDIS = { RedisAutoConfiguration.class };

	/** Resilience4j, health and metrics, as an actuator application has them. */
	public static final Class<?>[] ACTUATOR = { CircuitBreakerAutoConfiguration.class,
			EndpointAutoConfiguration.class, HealthContributorAutoConfiguration.class,
			HealthEndpointAutoConfiguration.class, MetricsAutoConfiguration.class,
			CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class };

	private BootLine() {
	}

	/** The health a {@code HealthIndicator} bean reports, as status code and details. */
	public static HealthReport health(ApplicationContext context, String beanName) {
		Health health = context.getBean(beanName, HealthIndicator.class).health();
		return new HealthReport(health.getStatus().getCode(), health.getDetails());
	}

	/** What the health endpoint answers for one component (the object rendered as JSON). */
	public static Object healthEndpoint(ApplicationContext context, String path) {
		return context.getBean(HealthEndpoint.class).healthForPath(path);
	}

	/**
	 * A health, independent of Boot's health types.
	 * @param status the status code, e.g. UP
	 * @param details the details
	 */
	public record HealthReport(String status, Map<String, Object> details) {
	}

}
