package io.github.openailb.testsupport;

import java.util.Map;
import java.util.stream.Collectors;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.springboot.circuitbreaker.autoconfigure.CircuitBreakerAutoConfiguration;
import io.github.resilience4j.springboot.circuitbreaker.autoconfigure.CircuitBreakersHealthIndicatorAutoConfiguration;
import io.github.resilience4j.springboot.circuitbreaker.monitoring.endpoint.CircuitBreakerEndpoint;

import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration;
import org.springframework.boot.health.actuate.endpoint.HealthEndpoint;
import org.springframework.boot.health.actuate.endpoint.IndicatedHealthDescriptor;
import org.springframework.boot.health.autoconfigure.actuate.endpoint.HealthEndpointAutoConfiguration;
import org.springframework.boot.health.autoconfigure.contributor.HealthContributorAutoConfiguration;
import org.springframework.boot.health.autoconfigure.registry.HealthContributorRegistryAutoConfiguration;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration;
import org.springframework.boot.http.converter.autoconfigure.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.restclient.autoconfigure.RestClientAutoConfiguration;
import org.springframework.boot.webclient.autoconfigure.WebClientAutoConfiguration;
import org.springframework.context.ApplicationContext;

/**
 * What the shared tests need from Spring Boot 4, whose classes sit elsewhere than in Boot 3. The
 * Boot 3 module has a class of the same name with the same members.
 */
public final class BootLine {

	/** Boot's {@code WebClient.Builder} over the application's {@code ClientHttpConnector}. */
	public static final Class<?>[] WEB_CLIENT = { ReactiveHttpClientAutoConfiguration.class,
			WebClientAutoConfiguration.class };

	/** Boot's {@code RestClient.Builder} with its message converters. */
	public static final Class<?>[] REST_CLIENT = { HttpMessageConvertersAutoConfiguration.class,
			RestClientAutoConfiguration.class };

	/** Boot's Redis connection factories. */
	public static final Class<?>[] REDIS = { DataRedisAutoConfiguration.class };

	/** Resilience4j, health and metrics, as an actuator application has them. */
	public static final Class<?>[] ACTUATOR = { CircuitBreakerAutoConfiguration.class,
			EndpointAutoConfiguration.class, HealthContributorAutoConfiguration.class,
			HealthContributorRegistryAutoConfiguration.class,
			HealthEndpointAutoConfiguration.class, MetricsAutoConfiguration.class,
			CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class };

	/** Boot's meter registry, as an application with the actuator has it. */
	public static final Class<?>[] METRICS = { MetricsAutoConfiguration.class,
			CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class };

	/** Resilience4j's {@code circuitBreakers} health contributor. */
	public static final Class<?>[] CIRCUIT_BREAKERS_HEALTH = { CircuitBreakersHealthIndicatorAutoConfiguration.class };

	/** Boot's health indicator type, whose absence turns our health indicators off. */
	public static final Class<?> HEALTH_INDICATOR = HealthIndicator.class;

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

	/** What the health endpoint answers for one component, as status code and details. */
	public static HealthReport healthEndpointReport(ApplicationContext context, String path) {
		IndicatedHealthDescriptor health = (IndicatedHealthDescriptor) healthEndpoint(context, path);
		return new HealthReport(health.getStatus().getCode(), health.getDetails());
	}

	/** The state of each circuit breaker as Resilience4j's {@code circuitbreakers} endpoint shows it. */
	public static Map<String, CircuitBreaker.State> circuitBreakerEndpoint(ApplicationContext context) {
		return context.getBean(CircuitBreakerEndpoint.class)
			.getAllCircuitBreakers()
			.getCircuitBreakers()
			.entrySet()
			.stream()
			.collect(Collectors.toMap(Map.Entry::getKey, (entry) -> entry.getValue().getState()));
	}

	/**
	 * A health, independent of Boot's health types.
	 * @param status the status code, e.g. UP
	 * @param details the details
	 */
	public record HealthReport(String status, Map<String, Object> details) {
	}

}
