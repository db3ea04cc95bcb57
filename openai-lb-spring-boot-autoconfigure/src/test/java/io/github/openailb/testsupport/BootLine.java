package io.github.openailb.testsupport;

import java.util.Map;
import java.util.function.Consumer;
import java.util.stream.Collectors;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.springboot3.circuitbreaker.autoconfigure.CircuitBreakerAutoConfiguration;
import io.github.resilience4j.springboot3.circuitbreaker.autoconfigure.CircuitBreakersHealthIndicatorAutoConfiguration;
import io.github.resilience4j.springboot3.circuitbreaker.monitoring.endpoint.CircuitBreakerEndpoint;

import org.springframework.boot.actuate.autoconfigure.availability.AvailabilityHealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.availability.AvailabilityProbesAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.data.redis.RedisHealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.data.redis.RedisReactiveHealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.EndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.jackson.JacksonEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.endpoint.web.WebEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthContributorAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.health.HealthEndpointAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.CompositeMeterRegistryAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.MetricsAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.metrics.export.simple.SimpleMetricsExportAutoConfiguration;
import org.springframework.boot.actuate.endpoint.ApiVersion;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.WebServerNamespace;
import org.springframework.boot.actuate.autoconfigure.web.reactive.ReactiveManagementContextAutoConfiguration;
import org.springframework.boot.actuate.autoconfigure.web.server.ManagementContextAutoConfiguration;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthComponent;
import org.springframework.boot.actuate.health.HealthEndpoint;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.ReactiveHealthEndpointWebExtension;
import org.springframework.boot.autoconfigure.availability.ApplicationAvailabilityAutoConfiguration;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration;
import org.springframework.boot.autoconfigure.http.HttpMessageConvertersAutoConfiguration;
import org.springframework.boot.autoconfigure.http.codec.CodecsAutoConfiguration;
import org.springframework.boot.autoconfigure.jackson.JacksonAutoConfiguration;
import org.springframework.boot.autoconfigure.web.client.RestClientAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.HttpHandlerAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.ReactiveWebServerFactoryAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.WebFluxAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.error.ErrorWebFluxAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.ClientHttpConnectorAutoConfiguration;
import org.springframework.boot.autoconfigure.web.reactive.function.client.WebClientAutoConfiguration;
import org.springframework.boot.test.context.assertj.ApplicationContextAssertProvider;
import org.springframework.boot.test.context.runner.ReactiveWebApplicationContextRunner;
import org.springframework.boot.web.context.WebServerApplicationContext;
import org.springframework.boot.web.reactive.context.AnnotationConfigReactiveWebServerApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.web.client.RestClientCustomizer;
import org.springframework.boot.web.reactive.function.client.WebClientCustomizer;
import org.springframework.context.ApplicationContext;
import org.springframework.web.client.RestClient;
import org.springframework.web.reactive.function.client.WebClient;

/**
 * What the shared tests need from Spring Boot 3, whose classes sit elsewhere in Boot 4. The Boot 4
 * module has a class of the same name with the same members.
 */
public final class BootLine {

	/** Boot's {@code WebClient.Builder} over the application's {@code ClientHttpConnector}. */
	public static final Class<?>[] WEB_CLIENT = { ClientHttpConnectorAutoConfiguration.class,
			WebClientAutoConfiguration.class };

	/** Boot's {@code ReactorResourceFactory}, which disposes Reactor Netty's global resources on close. */
	public static final Class<?>[] REACTOR_RESOURCES = {
			org.springframework.boot.autoconfigure.http.client.reactive.ClientHttpConnectorAutoConfiguration.class };

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

	/** Boot's meter registry, as an application with the actuator has it. */
	public static final Class<?>[] METRICS = { MetricsAutoConfiguration.class,
			CompositeMeterRegistryAutoConfiguration.class, SimpleMetricsExportAutoConfiguration.class };

	/**
	 * A WebFlux application on Reactor Netty with the actuator's web endpoints (add
	 * {@link #ACTUATOR} for health and the endpoint infrastructure).
	 */
	public static final Class<?>[] WEB_SERVER = { ReactiveWebServerFactoryAutoConfiguration.class, HttpHandlerAutoConfiguration.class,
			WebFluxAutoConfiguration.class, ErrorWebFluxAutoConfiguration.class, CodecsAutoConfiguration.class,
			JacksonAutoConfiguration.class, JacksonEndpointAutoConfiguration.class, WebEndpointAutoConfiguration.class,
			ManagementContextAutoConfiguration.class, ReactiveManagementContextAutoConfiguration.class };

	/** Resilience4j's {@code circuitBreakers} health contributor. */
	public static final Class<?>[] CIRCUIT_BREAKERS_HEALTH = { CircuitBreakersHealthIndicatorAutoConfiguration.class };

	/** Boot's {@code redis} health contributor (reactive first, as Boot orders them). */
	public static final Class<?>[] REDIS_HEALTH = { RedisReactiveHealthContributorAutoConfiguration.class,
			RedisHealthContributorAutoConfiguration.class };

	/** Actuator web endpoints, which a reactive web application's health web extension needs. */
	public static final Class<?>[] WEB_ENDPOINTS = { WebEndpointAutoConfiguration.class };

	/** Application availability and Boot's liveness/readiness probe groups. */
	public static final Class<?>[] PROBES = { ApplicationAvailabilityAutoConfiguration.class,
			AvailabilityHealthContributorAutoConfiguration.class, AvailabilityProbesAutoConfiguration.class };

	/** Boot's health indicator type, whose absence turns our health indicators off. */
	public static final Class<?> HEALTH_INDICATOR = HealthIndicator.class;

	private BootLine() {
	}

	/** A runner whose contexts start {@link #WEB_SERVER} on a free port: real HTTP on loopback. */
	public static ReactiveWebApplicationContextRunner webServerRunner() {
		return new ReactiveWebApplicationContextRunner(AnnotationConfigReactiveWebServerApplicationContext::new)
			.withConfiguration(AutoConfigurations.of(WEB_SERVER))
			.withPropertyValues("server.address=127.0.0.1", "server.port=0");
	}

	/** The port the web server of a context from {@link #webServerRunner()} listens on. */
	public static int port(ApplicationContext context) {
		ApplicationContext source = (context instanceof ApplicationContextAssertProvider<?> provider)
				? provider.getSourceApplicationContext() : context;
		return ((WebServerApplicationContext) source).getWebServer().getPort();
	}

	/** An application's own {@code RestClientCustomizer} (unordered), whose type moved in Boot 4. */
	public static ApplicationContextRunner withRestClientCustomizer(ApplicationContextRunner runner,
			Consumer<RestClient.Builder> customizer) {
		return runner.withBean("applicationRestClientCustomizer", RestClientCustomizer.class,
				() -> customizer::accept);
	}

	/** An application's own {@code WebClientCustomizer} (unordered), whose type moved in Boot 4. */
	public static ApplicationContextRunner withWebClientCustomizer(ApplicationContextRunner runner,
			Consumer<WebClient.Builder> customizer) {
		return runner.withBean("applicationWebClientCustomizer", WebClientCustomizer.class,
				() -> customizer::accept);
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
		Health health = (Health) healthEndpoint(context, path);
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
	 * What {@code GET /actuator/health[/path]} answers, through the reactive web extension (the
	 * application must be a reactive web application): the HTTP status and the health status, or
	 * {@code null} as status when the path is unknown.
	 */
	public static WebHealth webHealth(ApplicationContext context, String... path) {
		WebEndpointResponse<? extends HealthComponent> response = context.getBean(ReactiveHealthEndpointWebExtension.class)
			.health(ApiVersion.LATEST, WebServerNamespace.SERVER, SecurityContext.NONE, path)
			.block(java.time.Duration.ofSeconds(30));
		HealthComponent body = response.getBody();
		return new WebHealth(response.getStatus(), (body != null) ? body.getStatus().getCode() : null);
	}

	/**
	 * A health as an HTTP client of the health endpoint sees it.
	 * @param httpStatus the HTTP status code, e.g. 503
	 * @param status the health status code, e.g. DOWN
	 */
	public record WebHealth(int httpStatus, String status) {
	}

	/**
	 * A health, independent of Boot's health types.
	 * @param status the status code, e.g. UP
	 * @param details the details
	 */
	public record HealthReport(String status, Map<String, Object> details) {
	}

}
