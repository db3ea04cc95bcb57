package io.github.openailb.autoconfigure;

import java.time.Clock;

import io.github.openailb.core.InvalidConfigurationException;
import io.github.openailb.redis.RedisSharedState;
import io.lettuce.core.RedisClient;

import org.springframework.boot.actuate.autoconfigure.health.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.actuate.health.Health;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Auto-configuration of the Redis state store ({@code openai.lb.state.store=redis}): cool-downs
 * and misconfiguration marks shared by every instance that uses the application's Redis
 * ({@code spring.data.redis.*}) and the same {@code openai.lb.state.namespace}.
 */
@AutoConfiguration(before = OpenAiLbAutoConfiguration.class,
		afterName = "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration")
@ConditionalOnClass({ RedisConnectionFactory.class, RedisClient.class })
@ConditionalOnProperty(prefix = "openai.lb.state", name = "store", havingValue = "redis")
@EnableConfigurationProperties(OpenAiLbProperties.class)
public class OpenAiLbRedisStateAutoConfiguration {

	@Bean
	@ConditionalOnMissingBean
	RedisSharedState openAiLbRedisSharedState(RedisConnectionFactory connectionFactory,
			OpenAiLbProperties properties) {
		OpenAiLbProperties.State state = properties.getState();
		if (state.getNamespace() == null || state.getNamespace().isBlank()) {
			throw new InvalidConfigurationException("openai.lb.state.namespace", "is blank",
					"Set openai.lb.state.namespace to a name shared by the instances of this application");
		}
		if (state.getTimeout() == null || state.getTimeout().isNegative() || state.getTimeout().isZero()) {
			throw new InvalidConfigurationException("openai.lb.state.timeout", "must be positive",
					"Set openai.lb.state.timeout to a short positive duration such as 500ms");
		}
		// a misconfiguration mark lasts until a success locally; late joiners learn it for this long
		return new RedisSharedState(connectionFactory, state.getNamespace(), state.getTimeout(),
				properties.getMaxCoolDown(), Clock.systemUTC());
	}

	@Bean
	@ConditionalOnMissingBean(name = "openAiLbRedisStateCustomizer")
	LoadBalancerCustomizer openAiLbRedisStateCustomizer(RedisSharedState sharedState) {
		return (builder) -> builder.sharedState(sharedState);
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass(HealthIndicator.class)
	@ConditionalOnEnabledHealthIndicator("openAiLbState")
	static class StateHealthConfiguration {

		/**
		 * UP with {@code store: degraded} while Redis is away: the balancer still works from its
		 * local state, so the application must not be reported DOWN (and restarted) for it.
		 */
		@Bean
		@ConditionalOnMissingBean(name = "openAiLbStateHealthIndicator")
		HealthIndicator openAiLbStateHealthIndicator(RedisSharedState sharedState) {
			return () -> {
				boolean connected = sharedState.check();
				Health.Builder health = Health.up()
					.withDetail("store", connected ? "redis" : "degraded")
					.withDetail("namespace", sharedState.namespace());
				String error = sharedState.lastError();
				if (!connected && error != null) {
					health.withDetail("error", error);
				}
				return health.build();
			};
		}

	}

}
