Feature: The runner itself - scenarios that must fail (tests/integration/test_camara_features.sh)
  # Run with --spec tests/camara/v0.2.0/number-recycling.yaml. Only
  # selftest_passes may pass: a runner that reports any of the others as ok
  # cannot catch a non-conforming server.

  Background: Common setup
    Given an environment at "apiRoot"
    And the resource "/number-recycling/v0.2/check"
    And the header "Content-Type" is set to "application/json"
    And the header "Authorization" is set to a valid access token
    And the header "x-correlator" complies with the schema at "#/components/schemas/XCorrelator"
    And the request body is set by default to a request body compliant with the schema

  @selftest_passes
  Scenario: A number held by one subscriber is not recycled
    Given the request body property "$.specifiedDate" is set to a date on which the user signed contracts with Service Provider
    When the HTTP "POST" request is sent
    Then the response status code is 200
    And the value of response property "$.phoneNumberRecycled" is false

  @selftest_wrong_value
  Scenario: A wrong expected value fails
    When the HTTP "POST" request is sent
    Then the response status code is 200
    And the value of response property "$.phoneNumberRecycled" is true

  @selftest_wrong_type
  Scenario: A string where the response has a boolean fails
    When the HTTP "POST" request is sent
    Then the value of response property "$.phoneNumberRecycled" is "false"

  @selftest_wrong_status
  Scenario: A wrong status fails
    Given the request body is set to "{}"
    When the HTTP "POST" request is sent
    Then the response status code is 200

  @selftest_undefined_step
  Scenario: A step with no definition fails
    Given the moon is full
    When the HTTP "POST" request is sent
    Then the response status code is 200

  @selftest_no_request
  Scenario: A check with no request before it fails
    Then the response status code is 200

  @selftest_correlator_not_echoed
  Scenario: A header the server did not send fails
    When the HTTP "POST" request is sent
    Then the response header "x-correlator" has same value as the request header "x-not-sent"

  @selftest_outline
  Scenario Outline: An outline runs once per Examples row: false passes, true fails
    When the HTTP "POST" request is sent
    Then the value of response property "$.phoneNumberRecycled" is <value>

    Examples:
      | value |
      | false |
      | true  |
