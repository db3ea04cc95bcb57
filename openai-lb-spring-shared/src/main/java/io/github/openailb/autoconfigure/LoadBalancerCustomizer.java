package io.github.openailb.autoconfigure;

import io.github.openailb.core.LoadBalancer;

/**
 * Customizes the {@link LoadBalancer.Builder} before the engine is built (clock, random source,
 * breakers, listener). Applied in order.
 */
@FunctionalInterface
public interface LoadBalancerCustomizer {

	/**
	 * Customize the builder.
	 * @param builder the builder
	 */
	void customize(LoadBalancer.Builder builder);

}
