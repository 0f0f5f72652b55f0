/* Event bus resource policies: the question PutEvents enforcement asks ("may account X put
 * events on bus Y?"), answered from the policy document PutPermission builds:
 *   {"Version":"2012-10-17","Statement":[{"Sid":..,"Effect":"Allow","Principal":{"AWS":
 *    "arn:aws:iam::ACCOUNT:root"} or "*","Action":"events:PutEvents","Resource":<bus ARN>
 *    [,"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-..."}}]}, ...]}
 * Pure functions on policy text: no store, no engine, no clock.
 *
 * (PutPermission itself is being built beside this; this header holds only the enforcement
 * question, with the signature that work uses, so the two meet in one place.) */
#ifndef LB_POLICY_H
#define LB_POLICY_H

#include <stddef.h>

/* The enforcement hook: 1 if `account` (a member of organization org_id, NULL when unknown) may
 * put events on the bus bus_arn owned by owner_account under policy (NULL: none), else 0. The
 * owner may always. Otherwise an Allow statement must name the account (its id, its
 * arn:...:iam::ID:root, or "*"), an action covering events:PutEvents (exact, "events:*" or "*")
 * and a resource covering the bus ("*" wildcards allowed), and every condition it has must hold
 * (aws:PrincipalOrgID and aws:PrincipalAccount with StringEquals/StringLike); a Deny statement
 * that applies the same way wins over any Allow. */
int lb_policy_allows_put_events(const char *policy, const char *bus_arn, const char *owner_account,
                                const char *account, const char *org_id);

#endif
