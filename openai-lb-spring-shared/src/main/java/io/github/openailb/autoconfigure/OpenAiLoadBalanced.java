package io.github.openailb.autoconfigure;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

import org.springframework.beans.factory.annotation.Qualifier;

/**
 * Qualifies the balanced {@code RestClient} and {@code WebClient} beans. They are not default
 * candidates, so injecting a plain {@code RestClient} elsewhere in the application is not
 * affected; ask for the balanced one with this annotation.
 */
@Target({ ElementType.FIELD, ElementType.METHOD, ElementType.PARAMETER, ElementType.TYPE })
@Retention(RetentionPolicy.RUNTIME)
@Documented
@Qualifier
public @interface OpenAiLoadBalanced {

}
