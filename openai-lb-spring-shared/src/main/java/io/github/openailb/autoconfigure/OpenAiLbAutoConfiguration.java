package io.github.openailb.autoconfigure;

import java.util.List;
import java.util.function.Function;

import io.github.openailb.auth.BackendCredentials;
import io.github.openailb.core.BalancerConfig;
import io.github.openailb.core.BalancerListener;
import io.github.openailb.core.LoadBalancer;
import io.github.openailb.transport.BalancingClientHttpConnector;
import io.github.openailb.transport.ReactorTransport;
import io.github.openailb.transport.TransportConfig;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerRegistry;
import reactor.netty.http.client.HttpClient;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.core.env.Environment;
import org.springframework.core.io.ResourceLoader;
import org.springframework.http.client.reactive.ClientHttpConnector;

/**
 * Auto-configuration of the openai-lb engine and its shared balanced transport.
 */
// after Boot's connector: ours must never stand in for the application's ClientHttpConnector.
// Named by string: this class is compiled for Boot 3 and Boot 4, where these live in other places.
@AutoConfiguration(afterName = {
		"org.springframework.boot.autoconfigure.web.reactive.function.client.ClientHttpConnectorAutoConfiguration",
		"org.springframework.boot.http.client.autoconfigure.reactive.ReactiveHttpClientAutoConfiguration",
		"io.github.resilience4j.springboot3.circuitbreaker.autoconfigure.CircuitBreakerAutoConfiguration",
		"io.github.resilience4j.springboot.circuitbreaker.autoconfigure.CircuitBreakerAutoConfiguration" })
@ConditionalOnProperty(prefix = "openai.lb", name = "enabled", havingValue = "true", matchIfMissing = true)
@ConditionalOnClass({ ClientHttpConnector.class, HttpClient.class })
@EnableConfigurationProperties(OpenAiLbProperties.class)
@Import({ BackendCredentialsConfigurations.EntraIdCredentialsConfiguration.class,
		BackendCredentialsConfigurations.KeyCredentialsConfiguration.class })
public class OpenAiLbAutoConfiguration {

	/** Static: it checks the settings before any bean binds them (see the class). */
	@Bean
	static OpenAiLbPropertiesValidator openAiLbPropertiesValidator(Environment environment) {
		return new OpenAiLbPropertiesValidator(environment);
	}

	/** Not needed when the application defines its own engine, which carries its configuration. */
	@Bean
	@ConditionalOnMissingBean({ BalancerConfig.class, LoadBalancer.class })
	BalancerConfig openAiLbBalancerConfig(OpenAiLbProperties properties, ResourceLoader resourceLoader) {
		properties.checkStoreAvailable(resourceLoader.getClassLoader());
		return properties.toBalancerConfig();
	}

	@Bean
	@ConditionalOnMissingBean
	LoadBalancer openAiLoadBalancer(BalancerConfig config, ObjectProvider<CircuitBreakerRegistry> registry,
			ObjectProvider<BalancerListener> listeners, ObjectProvider<LoadBalancerCustomizer> customizers,
			Environment environment) {
		LoadBalancer.Builder builder = LoadBalancer.builder(config);
		CircuitBreakerRegistry breakers = registry.getIfAvailable();
		if (breakers != null) {
			builder.circuitBreakers(fromRegistry(breakers, environment));
		}
		List<BalancerListener> all = listeners.orderedStream().toList();
		if (!all.isEmpty()) {
			builder.listener(CompositeBalancerListener.of(all));
		}
		customizers.orderedStream().forEach((customizer) -> customizer.customize(builder));
		return builder.build();
	}

	/**
	 * Breakers come from the application's registry so that
	 * {@code resilience4j.circuitbreaker.instances.<backend>.*} applies. Without any instance or
	 * {@code configs.default} settings the registry's defaults (100 calls before judging) would be
	 * too lax for a handful of backends, so ours apply.
	 */
	static Function<String, CircuitBreaker> fromRegistry(CircuitBreakerRegistry registry, Environment environment) {
		boolean userDefaults = Binder.get(environment)
			.bind("resilience4j.circuitbreaker.configs.default", Bindable.mapOf(String.class, Object.class))
			.isBound();
		return (name) -> registry.find(name)
			.orElseGet(() -> userDefaults ? registry.circuitBreaker(name)
					: registry.circuitBreaker(name, LoadBalancer.defaultBreakerConfig(java.time.Clock.systemUTC())));
	}

	@Bean
	@ConditionalOnMissingBean
	TransportConfig openAiLbTransportConfig(OpenAiLbProperties properties) {
		return properties.toTransportConfig();
	}

	/*
	 * The transport and the balancing connector are ClientHttpConnectors: they are qualified and
	 * not default candidates so that by-type lookups of the application's connector never see them.
	 */
	@Bean(defaultCandidate = false)
	@OpenAiLoadBalanced
	@ConditionalOnMissingBean
	ReactorTransport openAiLbTransport(TransportConfig config,
			ObjectProvider<OpenAiLbHttpClientCustomizer> customizers) {
		return new ReactorTransport(config, (client) -> {
			HttpClient customized = client;
			for (OpenAiLbHttpClientCustomizer customizer : customizers.orderedStream().toList()) {
				customized = customizer.customize(customized);
			}
			return customized;
		});
	}

	@Bean(defaultCandidate = false)
	@OpenAiLoadBalanced
	@ConditionalOnMissingBean
	BalancingClientHttpConnector openAiLbConnector(LoadBalancer balancer, BackendCredentials credentials,
			TransportConfig config, @OpenAiLoadBalanced ReactorTransport transport) {
		return new BalancingClientHttpConnector(balancer, transport, credentials, config, transport);
	}

	/**
	 * The connector the starter's clients send through: the application's own
	 * {@link BalancingClientHttpConnector} bean when it defines one, with or without
	 * {@link OpenAiLoadBalanced}, else the starter's (which is qualified and not a default candidate,
	 * so an unqualified lookup alone would not find it).
	 * @param qualified the {@link OpenAiLoadBalanced} connector, if any
	 * @param any an unqualified connector of the application, if any
	 * @return the connector
	 */
	static BalancingClientHttpConnector balancingConnector(ObjectProvider<BalancingClientHttpConnector> qualified,
			ObjectProvider<BalancingClientHttpConnector> any) {
		return qualified.getIfAvailable(any::getObject);
	}

}
