package io.github.openailb.autoconfigure;

import java.time.Clock;

import io.github.openailb.core.InvalidConfigurationException;
import io.github.openailb.redis.RedisSharedState;
import io.lettuce.core.RedisClient;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Import;
import org.springframework.data.redis.connection.RedisConnectionFactory;

/**
 * Auto-configuration of the Redis state store ({@code openai.lb.state.store=redis}): cool-downs
 * and misconfiguration marks shared by every instance that uses the application's Redis
 * ({@code spring.data.redis.*}) and the same {@code openai.lb.state.namespace}.
 */
@AutoConfiguration(before = OpenAiLbAutoConfiguration.class,
		afterName = { "org.springframework.boot.autoconfigure.data.redis.RedisAutoConfiguration",
				"org.springframework.boot.data.redis.autoconfigure.DataRedisAutoConfiguration" })
@ConditionalOnClass({ RedisConnectionFactory.class, RedisClient.class })
@ConditionalOnProperty(prefix = "openai.lb.state", name = "store", havingValue = "redis")
@EnableConfigurationProperties(OpenAiLbProperties.class)
@Import(HealthConfigurations.StateHealthConfiguration.class)
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

}
