/* `localbridge deploy TEMPLATE [--stack-name N] [--parameter-overrides K=V ...] [--plan]
 * [--endpoint-url URL] [--region R] [--lambda-runner PATH] [--json]`: deploys a CloudFormation /
 * SAM template to a running daemon and keeps the daemon's stack record, so deploying again
 * converges. Exit status: 0 done (or planned), 1 a call failed (the resource, its line and AWS's
 * error are printed), 2 a usage or template error. */
#ifndef LB_DEPLOY_CLI_H
#define LB_DEPLOY_CLI_H

/* argv[0] is the first argument after "deploy"; self is the path localbridge was started as
 * (the Python runner is looked for beside it). */
int lb_deploy_cli_main(int argc, char **argv, const char *self);

#endif
