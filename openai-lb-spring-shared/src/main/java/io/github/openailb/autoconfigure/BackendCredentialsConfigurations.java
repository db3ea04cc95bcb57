package io.github.openailb.autoconfigure;

import com.azure.core.credential.TokenCredential;
import com.azure.identity.DefaultAzureCredentialBuilder;
import io.github.openailb.auth.BackendCredentials;
import io.github.openailb.auth.EntraIdCredentials;
import io.github.openailb.core.LoadBalancer;

import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@link BackendCredentials} variants, imported in order: with azure-identity keyless Azure
 * backends get Entra ID tokens, without it they pass the caller's credential through. The backends
 * are the engine's, so an application's own {@link LoadBalancer} needs no {@code openai.lb.backends}.
 */
final class BackendCredentialsConfigurations {

	private BackendCredentialsConfigurations() {
	}

	@Configuration(proxyBeanMethods = false)
	@ConditionalOnClass({ TokenCredential.class, DefaultAzureCredentialBuilder.class })
	static class EntraIdCredentialsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		BackendCredentials openAiLbCredentials(LoadBalancer balancer, OpenAiLbProperties properties,
				ObjectProvider<TokenCredential> tokenCredential) {
			return BackendCredentialsFactory.create(balancer.config(), properties, (backends, scope) -> {
				EntraIdCredentials.Builder builder = EntraIdCredentials.builder()
					.scope(scope)
					// looked up (or created) on the first token request, not at start-up
					.defaultCredential(
							() -> tokenCredential.getIfUnique(() -> new DefaultAzureCredentialBuilder().build()));
				backends.forEach(builder::backend);
				return builder.build();
			});
		}

	}

	@Configuration(proxyBeanMethods = false)
	static class KeyCredentialsConfiguration {

		@Bean
		@ConditionalOnMissingBean
		BackendCredentials openAiLbCredentials(LoadBalancer balancer, OpenAiLbProperties properties) {
			return BackendCredentialsFactory.create(balancer.config(), properties, null);
		}

	}

}
