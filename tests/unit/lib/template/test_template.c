/* Unit tests for lb_template: YAML and JSON templates, every intrinsic function in its short
 * and long forms, parameters, conditions, mappings, pseudo parameters, the dependency order and
 * errors that name the line. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lb_template.h"
#include "lb_test.h"

static const lb_tpl_context_t ctx = {
    .stack_name = "demo", .region = "eu-west-1", .account_id = "123456789012"};

/* Parses and prepares text; the error (or NULL) in *err. */
static lb_template_t *load(const char *text, const char *const *ov, size_t n, char **err)
{
    lb_template_t *t = NULL;
    *err = NULL;
    if (lb_template_parse("t.yaml", text, strlen(text), &t, err)) return NULL;
    if (lb_template_prepare(t, &ctx, ov, n, err)) lb_template_free(&t);
    return t;
}

/* The resolved Properties of resource id, as compact JSON (malloc'd), or the error text. */
static char *props_of(lb_template_t *t, const char *id)
{
    const lb_json_t *res = lb_json_get(lb_template_section(t, "Resources"), id);
    lb_json_doc_t *doc = lb_json_doc_new();
    lb_json_t *out;
    char *err;
    char *text;
    if (lb_template_resolve(t, lb_json_get(res, "Properties"), id, doc, &out, &err))
        text = err;
    else
        text = out ? lb_json_print(out, NULL) : lb_strdup("<novalue>");
    lb_json_doc_free(&doc);
    return text;
}

/* Loads a template with one resource R whose Properties are props (YAML flow or block text
 * indented 6), and returns R's resolved Properties. */
static char *eval_props(const char *prologue, const char *props)
{
    char text[4096];
    snprintf(text, sizeof text,
             "%s\nResources:\n  Bus:\n    Type: AWS::Events::EventBus\n    Properties:\n"
             "      Name: b\n  R:\n    Type: Test::Thing\n    Properties:\n%s\n",
             prologue, props);
    char *err;
    lb_template_t *t = load(text, NULL, 0, &err);
    if (!t) return err;
    lb_json_doc_t *d = lb_json_doc_new();
    lb_template_set_ref(t, "Bus", lb_json_new_str(d, "b"));
    lb_template_set_attr(t, "Bus", "Arn", "arn:aws:events:eu-west-1:123456789012:event-bus/b");
    lb_json_doc_free(&d);
    char *out = props_of(t, "R");
    lb_template_free(&t);
    return out;
}

#define EXPECT(prologue, props, want)                                                              \
    do {                                                                                           \
        char *got_ = eval_props(prologue, props);                                                  \
        ck_assert_str_eq(got_, want);                                                              \
        free(got_);                                                                                \
    } while (0)

START_TEST(ref_and_pseudo_parameters)
{
    EXPECT("",
           "      A: !Ref Bus\n      B: {Ref: AWS::Region}\n      C: !Ref AWS::AccountId\n"
           "      D: !Ref AWS::StackName\n      E: !Ref AWS::Partition\n"
           "      F: !Ref AWS::URLSuffix\n      G: !Ref AWS::NoValue",
           "{\"A\":\"b\",\"B\":\"eu-west-1\",\"C\":\"123456789012\",\"D\":\"demo\",\"E\":\"aws\","
           "\"F\":\"amazonaws.com\"}");
}
END_TEST

START_TEST(get_att_all_forms)
{
    EXPECT("",
           "      A: !GetAtt Bus.Arn\n      B: {\"Fn::GetAtt\": [Bus, Arn]}\n"
           "      C: {\"Fn::GetAtt\": Bus.Arn}",
           "{\"A\":\"arn:aws:events:eu-west-1:123456789012:event-bus/b\",\"B\":\"arn:aws:events:"
           "eu-west-1:123456789012:event-bus/b\",\"C\":\"arn:aws:events:eu-west-1:123456789012:"
           "event-bus/b\"}");
    EXPECT("", "      A: !GetAtt Bus.Nope",
           "t.yaml:10: Resource R: Template error: resource Bus does not support attribute type "
           "Nope in Fn::GetAtt");
    EXPECT("", "      A: !GetAtt Ghost.Arn",
           "t.yaml:10: Resource R: Template error: instance of Fn::GetAtt references undefined "
           "resource Ghost");
}
END_TEST

START_TEST(sub_both_forms)
{
    EXPECT("Parameters:\n  Env: {Type: String, Default: dev}\n",
           "      A: !Sub '${Env}-${AWS::Region}-${Bus}-${Bus.Arn}-${!Literal}'\n"
           "      B: !Sub ['${X}/${Env}', {X: !Ref AWS::AccountId}]\n"
           "      C: {\"Fn::Sub\": \"plain\"}",
           "{\"A\":\"dev-eu-west-1-b-arn:aws:events:eu-west-1:123456789012:event-bus/b-${"
           "Literal}\",\"B\":\"123456789012/dev\",\"C\":\"plain\"}");
}
END_TEST

START_TEST(join_select_split)
{
    EXPECT("",
           "      A: !Join [':', [a, !Ref AWS::Region, c]]\n"
           "      B: !Select [1, [x, y, z]]\n"
           "      C: !Split [',', 'a,b,,c']\n"
           "      D: !Select ['2', !Split ['/', 'p/q/r']]\n"
           "      E: {\"Fn::Join\": ['', []]}",
           "{\"A\":\"a:eu-west-1:c\",\"B\":\"y\",\"C\":[\"a\",\"b\",\"\",\"c\"],\"D\":\"r\","
           "\"E\":\"\"}");
    EXPECT("", "      A: !Select [5, [x]]",
           "t.yaml:10: Resource R: Fn::Select: index 5 is out of bounds of a list of 1");
}
END_TEST

START_TEST(conditions_if_equals_not_and_or)
{
    const char *pro =
        "Parameters:\n  Env: {Type: String, Default: prod, AllowedValues: [dev, prod]}\n"
        "Conditions:\n  IsProd: !Equals [!Ref Env, prod]\n"
        "  IsDev: !Not [!Condition IsProd]\n"
        "  Both: !And [!Condition IsProd, !Equals [a, a]]\n"
        "  Either: {\"Fn::Or\": [{Condition: IsDev}, !Equals [x, y]]}\n";
    EXPECT(pro,
           "      A: !If [IsProd, yes-prod, no]\n      B: !If [IsDev, x, !Ref AWS::NoValue]\n"
           "      C: !If [Both, 1, 2]\n      D: !If [Either, 1, 2]\n"
           "      E: [a, !If [IsDev, b, !Ref AWS::NoValue], c]",
           "{\"A\":\"yes-prod\",\"C\":1,\"D\":2,\"E\":[\"a\",\"c\"]}");
}
END_TEST

START_TEST(find_in_map_and_get_azs)
{
    EXPECT("Mappings:\n  Sizes:\n    eu-west-1: {Days: 30}\n",
           "      A: !FindInMap [Sizes, !Ref AWS::Region, Days]\n      B: !GetAZs ''\n"
           "      C: {\"Fn::GetAZs\": us-east-1}",
           "{\"A\":30,\"B\":[\"eu-west-1a\",\"eu-west-1b\",\"eu-west-1c\"],\"C\":[\"us-east-1a\","
           "\"us-east-1b\",\"us-east-1c\"]}");
    EXPECT("Mappings:\n  Sizes:\n    x: {Days: 30}\n", "      A: !FindInMap [Sizes, y, Days]",
           "t.yaml:13: Resource R: Fn::FindInMap: mapping 'Sizes' has no key 'y' with "
           "second-level key 'Days'");
}
END_TEST

START_TEST(unsupported_intrinsic_names_line)
{
    EXPECT("", "      A: ok\n      B: !Transform {Name: x}",
           "t.yaml:11: Resource R: unsupported intrinsic Fn::Transform");
    EXPECT("", "      B: {\"Fn::Cidr\": [a, 1, 2]}",
           "t.yaml:10: Resource R: unsupported intrinsic Fn::Cidr");
}
END_TEST

START_TEST(yaml_syntax_error_names_line)
{
    char *err;
    lb_template_t *t = load("Resources:\n  A:\n    Type: X\n   bad: [\n", NULL, 0, &err);
    ck_assert_ptr_null(t);
    ck_assert_msg(strncmp(err, "t.yaml:4: YAML syntax error", 27) == 0, "%s", err);
    free(err);
    t = load("Resources:\n  A:\n    Type: X\n    P: !Bogus x\n", NULL, 0, &err);
    ck_assert_str_eq(err, "t.yaml:4: unknown tag !Bogus");
    free(err);
}
END_TEST

START_TEST(json_template)
{
    const char *text = "{\n  \"Parameters\": {\"N\": {\"Type\": \"Number\", \"Default\": 3}},\n"
                       "  \"Resources\": {\n    \"R\": {\"Type\": \"T\", \"Properties\": {\n"
                       "      \"A\": {\"Fn::Join\": [\"-\", [{\"Ref\": \"N\"}, \"x\"]]},\n"
                       "      \"B\": {\"Fn::Bogus\": 1}}}}}";
    char *err;
    lb_template_t *t = load(text, NULL, 0, &err);
    ck_assert_ptr_nonnull(t);
    char *got = props_of(t, "R");
    ck_assert_str_eq(got, "t.yaml:6: Resource R: unsupported intrinsic Fn::Bogus");
    free(got);
    lb_template_free(&t);
    t = load("{\"Resources\": {\n  \"R\": {\"Type\": \"T\",}}}", NULL, 0, &err);
    ck_assert_ptr_null(t);
    ck_assert_msg(strncmp(err, "t.yaml:2: JSON syntax error: Unexpected character", 49) == 0, "%s",
                  err);
    free(err);
}
END_TEST

START_TEST(parameters_overrides_and_checks)
{
    const char *text =
        "Parameters:\n  Env: {Type: String, AllowedValues: [dev, prod]}\n"
        "  Azs: {Type: CommaDelimitedList, Default: 'a,b'}\n"
        "Resources:\n  R:\n    Type: T\n    Properties: {E: !Ref Env, L: !Ref Azs}\n";
    char *err;
    lb_template_t *t = load(text, NULL, 0, &err);
    ck_assert_str_eq(err, "t.yaml:2: Parameters: [Env] must have values");
    free(err);
    const char *bad[] = {"Env=test"};
    t = load(text, bad, 1, &err);
    ck_assert_str_eq(err, "t.yaml:2: Parameter 'Env' must be one of AllowedValues; got 'test'");
    free(err);
    const char *unknown[] = {"Env=dev", "Nope=1"};
    t = load(text, unknown, 2, &err);
    ck_assert_str_eq(err, "t.yaml: Parameters: [Nope] do not exist in the template");
    free(err);
    const char *good[] = {"Env=dev", "Env=prod"};
    t = load(text, good, 2, &err);
    ck_assert_ptr_nonnull(t);
    char *got = props_of(t, "R");
    ck_assert_str_eq(got, "{\"E\":\"prod\",\"L\":[\"a\",\"b\"]}");
    free(got);
    lb_template_free(&t);
}
END_TEST

START_TEST(order_follows_dependencies_and_conditions)
{
    const char *text = "Conditions:\n  Never: !Equals [a, b]\n"
                       "Resources:\n  C:\n    Type: T\n    Properties: {X: !Sub '${B.Arn}'}\n"
                       "  B:\n    Type: T\n    DependsOn: [A]\n"
                       "  A:\n    Type: T\n    Properties: {Y: !Ref AWS::Region}\n"
                       "  Off:\n    Type: T\n    Condition: Never\n";
    char *err;
    lb_template_t *t = load(text, NULL, 0, &err);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(lb_template_resource_count(t), 3);
    lb_tpl_resource_t r;
    const char *want[] = {"A", "B", "C"};
    for (size_t i = 0; i < 3; i++) {
        lb_template_resource(t, i, &r);
        ck_assert_str_eq(r.logical_id, want[i]);
    }
    ck_assert_uint_eq(lb_template_excluded_count(t), 1);
    lb_template_excluded(t, 0, &r);
    ck_assert_str_eq(r.logical_id, "Off");
    ck_assert_int_eq(r.line, 14);
    lb_template_free(&t);
}
END_TEST

START_TEST(cycle_is_reported)
{
    const char *text = "Resources:\n  A:\n    Type: T\n    Properties: {X: !Ref B}\n"
                       "  B:\n    Type: T\n    Properties: {X: !GetAtt A.Arn}\n";
    char *err;
    lb_template_t *t = load(text, NULL, 0, &err);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(err, "t.yaml:3: Resource A: circular dependency: A -> B -> A");
    free(err);
}
END_TEST

START_TEST(depends_on_unknown_resource)
{
    char *err;
    lb_template_t *t =
        load("Resources:\n  A:\n    Type: T\n    DependsOn: [Ghost]\n", NULL, 0, &err);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(err, "t.yaml:4: Resource A: Template format error: Unresolved resource "
                          "dependencies [Ghost] in the Resources block of the template");
    free(err);
}
END_TEST

START_TEST(unresolved_ref)
{
    EXPECT("", "      A: !Ref Nothing",
           "t.yaml:10: Resource R: Unresolved resource dependencies [Nothing] in the Resources "
           "block of the template");
}
END_TEST

START_TEST(scalars_keep_their_types)
{
    EXPECT("",
           "      A: 0123\n      B: '12'\n      C: 1.5e3\n      D: true\n      E: ~\n"
           "      F: +1\n      G: &x {k: v}\n      H: *x",
           "{\"A\":\"0123\",\"B\":\"12\",\"C\":1.5e3,\"D\":true,\"E\":null,\"F\":\"+1\","
           "\"G\":{\"k\":\"v\"},\"H\":{\"k\":\"v\"}}");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("template");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, ref_and_pseudo_parameters);
    tcase_add_test(tc, get_att_all_forms);
    tcase_add_test(tc, sub_both_forms);
    tcase_add_test(tc, join_select_split);
    tcase_add_test(tc, conditions_if_equals_not_and_or);
    tcase_add_test(tc, find_in_map_and_get_azs);
    tcase_add_test(tc, unsupported_intrinsic_names_line);
    tcase_add_test(tc, yaml_syntax_error_names_line);
    tcase_add_test(tc, json_template);
    tcase_add_test(tc, parameters_overrides_and_checks);
    tcase_add_test(tc, order_follows_dependencies_and_conditions);
    tcase_add_test(tc, cycle_is_reported);
    tcase_add_test(tc, unresolved_ref);
    tcase_add_test(tc, depends_on_unknown_resource);
    tcase_add_test(tc, scalars_keep_their_types);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return lb_test_run(suite());
}
