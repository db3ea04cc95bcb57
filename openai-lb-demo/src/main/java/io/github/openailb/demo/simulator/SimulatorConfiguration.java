package io.github.openailb.demo.simulator;

import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Runs the simulator unless {@code demo.simulator.enabled=false}.
 */
@Configuration(proxyBeanMethods = false)
@ConditionalOnProperty(prefix = "demo.simulator", name = "enabled", havingValue = "true", matchIfMissing = true)
@EnableConfigurationProperties(SimulatorProperties.class)
public class SimulatorConfiguration {

	@Bean
	Simulator simulator(SimulatorProperties properties) {
		return new Simulator(properties);
	}

}
