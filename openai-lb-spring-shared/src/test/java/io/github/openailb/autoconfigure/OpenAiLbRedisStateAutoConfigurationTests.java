package io.github.openailb.autoconfigure;

import java.time.Clock;
import java.time.Duration;

import io.github.openailb.core.LoadBalancer;
import io.github.openailb.redis.RedisSharedState;
import io.github.openailb.testsupport.BootLine;
import io.github.openailb.testsupport.RedisServerProcess;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Wiring of the Redis state store: only when chosen, backs off, fails on bad settings.
 */
class OpenAiLbRedisStateAutoConfigurationTests {

	private RedisServerProcess redis;

	private ApplicationContextRunner runner;

	@BeforeEach
	void start() {
		this.redis = RedisServerProcess.start();
		this.runner = new ApplicationContextRunner()
			.withConfiguration(AutoConfigurations.of(BootLine.REDIS))
		.withConfiguration(AutoConfigurations.of(OpenAiLbAutoConfiguration.class, OpenAiLbRedisStateAutoConfiguration.class))
			.withPropertyValues("spring.data.redis.host=127.0.0.1", "spring.data.redis.port=" + this.redis.port(),
					"openai.lb.backends[0].name=a", "openai.lb.backends[0].url=https://a.openai.azure.com");
	}

	@AfterEach
	void stop() {
		this.redis.stop();
	}

	@Test
	void localByDefault() {
		this.runner.run((context) -> assertThat(context).hasSingleBean(LoadBalancer.class)
			.doesNotHaveBean(RedisSharedState.class)
			.doesNotHaveBean("openAiLbStateHealthIndicator"));
		this.runner.withPropertyValues("openai.lb.state.store=local")
			.run((context) -> assertThat(context).doesNotHaveBean(RedisSharedState.class));
	}

	@Test
	void redisWhenChosen() {
		this.runner.withPropertyValues("openai.lb.state.store=redis")
			.run((context) -> assertThat(context).hasSingleBean(LoadBalancer.class)
				.hasSingleBean(RedisSharedState.class)
				.hasBean("openAiLbRedisStateCustomizer")
				.hasBean("openAiLbStateHealthIndicator"));
	}

	@Test
	void absentWithoutSpringDataRedisWhenLocal() {
		this.runner.withClassLoader(new FilteredClassLoader(RedisConnectionFactory.class))
			.run((context) -> assertThat(context).hasSingleBean(LoadBalancer.class)
				.doesNotHaveBean(RedisSharedState.class));
	}

	@Test
	void redisChosenWithoutSpringDataRedisFailsRatherThanStayingLocal() {
		this.runner.withPropertyValues("openai.lb.state.store=redis")
			.withClassLoader(new FilteredClassLoader(RedisConnectionFactory.class))
			.run((context) -> assertThat(context).hasFailed()
				.getFailure()
				.rootCause()
				.hasMessageContaining("openai.lb.state.store"));
	}

	@Test
	void backsOffWhenTheApplicationDefinesItsOwnStore() {
		this.runner.withPropertyValues("openai.lb.state.store=redis")
			.withUserConfiguration(OwnStore.class)
			.run((context) -> assertThat(context).hasSingleBean(RedisSharedState.class)
				.hasBean("ownStore")
				.doesNotHaveBean("openAiLbRedisSharedState"));
	}

	@Test
	void aBlankNamespaceFailsWithThePropertyAtFault() {
		this.runner.withPropertyValues("openai.lb.state.store=redis", "openai.lb.state.namespace= ")
			.run((context) -> {
				assertThat(context).hasFailed();
				FailureAnalysis analysis = new InvalidConfigurationFailureAnalyzer()
					.analyze(context.getStartupFailure());
				assertThat(analysis).isNotNull();
				assertThat(analysis.getDescription()).contains("openai.lb.state.namespace");
			});
	}

	@Configuration(proxyBeanMethods = false)
	static class OwnStore {

		@Bean
		RedisSharedState ownStore(RedisConnectionFactory connectionFactory) {
			return new RedisSharedState(connectionFactory, "own", Duration.ofMillis(200), Duration.ofMinutes(1),
					Clock.systemUTC());
		}

	}

}
