-- Create "api_clients" table
CREATE TABLE `api_clients` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `client_id` text NOT NULL, `secret_hash` text NOT NULL, `name` text NOT NULL, `external_subject` text NULL, `disabled` bool NOT NULL DEFAULT (false), `credential_generation` integer NOT NULL DEFAULT (0), `bank_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `api_clients_banks_api_clients` FOREIGN KEY (`bank_id`) REFERENCES `banks` (`id`) ON DELETE SET NULL);
-- Create index "api_clients_client_id_key" to table: "api_clients"
CREATE UNIQUE INDEX `api_clients_client_id_key` ON `api_clients` (`client_id`);
-- Create index "api_clients_external_subject_key" to table: "api_clients"
CREATE UNIQUE INDEX `api_clients_external_subject_key` ON `api_clients` (`external_subject`);
-- Create index "apiclient_created_at_id" to table: "api_clients"
CREATE INDEX `apiclient_created_at_id` ON `api_clients` (`created_at`, `id`);
-- Create index "apiclient_updated_at" to table: "api_clients"
CREATE INDEX `apiclient_updated_at` ON `api_clients` (`updated_at`);
-- Create "addresses" table
CREATE TABLE `addresses` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `line_1` text NULL, `line_2` text NULL, `line_3` text NULL, `city` text NULL, `county` text NULL, `state` text NULL, `postcode` text NULL, `country_code` text NULL, `tags` json NULL, `status` text NULL, `premise` integer NULL, `sub_premise` text NULL, `building` text NULL, `thoroughfare` text NULL, `is_primary` bool NOT NULL DEFAULT (false), `customer_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `addresses_customers_addresses` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE);
-- Create index "address_created_at_id" to table: "addresses"
CREATE INDEX `address_created_at_id` ON `addresses` (`created_at`, `id`);
-- Create index "address_updated_at" to table: "addresses"
CREATE INDEX `address_updated_at` ON `addresses` (`updated_at`);
-- Create index "address_customer_id_created_at_id" to table: "addresses"
CREATE INDEX `address_customer_id_created_at_id` ON `addresses` (`customer_id`, `created_at`, `id`);
-- Create index "address_one_primary_per_customer" to table: "addresses"
CREATE UNIQUE INDEX `address_one_primary_per_customer` ON `addresses` (`customer_id`) WHERE is_primary;
-- Create index "address_country_code" to table: "addresses"
CREATE INDEX `address_country_code` ON `addresses` (`country_code`);
-- Create index "address_postcode" to table: "addresses"
CREATE INDEX `address_postcode` ON `addresses` (`postcode`);
-- Create index "address_city" to table: "addresses"
CREATE INDEX `address_city` ON `addresses` (`city`);
-- Create "audit_events" table
CREATE TABLE `audit_events` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `actor_kind` text NOT NULL, `actor_id` uuid NULL, `actor_name` text NOT NULL, `requestor_id` text NULL, `request_id` text NULL, `operation` text NOT NULL, `entity_type` text NOT NULL, `entity_id` uuid NOT NULL, `bank_id` uuid NULL, `fields` json NULL, PRIMARY KEY (`id`));
-- Create index "auditevent_created_at_id" to table: "audit_events"
CREATE INDEX `auditevent_created_at_id` ON `audit_events` (`created_at`, `id`);
-- Create index "auditevent_updated_at" to table: "audit_events"
CREATE INDEX `auditevent_updated_at` ON `audit_events` (`updated_at`);
-- Create index "auditevent_entity_id" to table: "audit_events"
CREATE INDEX `auditevent_entity_id` ON `audit_events` (`entity_id`);
-- Create index "auditevent_actor_id" to table: "audit_events"
CREATE INDEX `auditevent_actor_id` ON `audit_events` (`actor_id`);
-- Create index "auditevent_bank_id_created_at" to table: "audit_events"
CREATE INDEX `auditevent_bank_id_created_at` ON `audit_events` (`bank_id`, `created_at`);
-- Create index "auditevent_requestor_id" to table: "audit_events"
CREATE INDEX `auditevent_requestor_id` ON `audit_events` (`requestor_id`);
-- Create "banks" table
CREATE TABLE `banks` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `code` text NOT NULL, `name` text NOT NULL, PRIMARY KEY (`id`));
-- Create index "banks_code_key" to table: "banks"
CREATE UNIQUE INDEX `banks_code_key` ON `banks` (`code`);
-- Create index "bank_created_at_id" to table: "banks"
CREATE INDEX `bank_created_at_id` ON `banks` (`created_at`, `id`);
-- Create index "bank_updated_at" to table: "banks"
CREATE INDEX `bank_updated_at` ON `banks` (`updated_at`);
-- Create index "bank_name" to table: "banks"
CREATE INDEX `bank_name` ON `banks` (`name`);
-- Create "crm_events" table
CREATE TABLE `crm_events` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `customer_name` text NULL, `customer_number` text NULL, `category` text NULL, `detail` text NULL, `channel` text NULL, `scheduled_date` datetime NULL, `actual_date` datetime NULL, `result` text NULL, `bank_id` uuid NOT NULL, `customer_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `crm_events_banks_crm_events` FOREIGN KEY (`bank_id`) REFERENCES `banks` (`id`) ON DELETE NO ACTION, CONSTRAINT `crm_events_customers_crm_events` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE SET NULL);
-- Create index "crmevent_created_at_id" to table: "crm_events"
CREATE INDEX `crmevent_created_at_id` ON `crm_events` (`created_at`, `id`);
-- Create index "crmevent_updated_at" to table: "crm_events"
CREATE INDEX `crmevent_updated_at` ON `crm_events` (`updated_at`);
-- Create index "crmevent_bank_id_created_at_id" to table: "crm_events"
CREATE INDEX `crmevent_bank_id_created_at_id` ON `crm_events` (`bank_id`, `created_at`, `id`);
-- Create index "crmevent_customer_id" to table: "crm_events"
CREATE INDEX `crmevent_customer_id` ON `crm_events` (`customer_id`);
-- Create index "crmevent_scheduled_date" to table: "crm_events"
CREATE INDEX `crmevent_scheduled_date` ON `crm_events` (`scheduled_date`);
-- Create "customers" table
CREATE TABLE `customers` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `customer_number` text NULL, `legal_name` text NULL, `first_name` text NULL, `last_name` text NULL, `company` text NULL, `email` text NULL, `mobile_phone_number` text NULL, `face_image_url` text NULL, `face_image_date` datetime NULL, `date_of_birth` datetime NULL, `relationship_status` text NULL, `dependants` integer NOT NULL DEFAULT (0), `dob_of_dependants` json NULL, `credit_rating` text NULL, `credit_source` text NULL, `credit_limit_currency` text NULL, `credit_limit_amount` text NULL, `highest_education_attained` text NULL, `employment_status` text NULL, `kyc_status` bool NOT NULL DEFAULT (false), `last_ok_date` datetime NULL, `title` text NULL, `branch_id` text NULL, `name_suffix` text NULL, `entity_id` uuid NULL, `entity_type` text NULL, `customer_status` text NOT NULL DEFAULT ('CREATED'), `customer_type` text NULL, `labels` json NULL, `bank_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `customers_banks_customers` FOREIGN KEY (`bank_id`) REFERENCES `banks` (`id`) ON DELETE NO ACTION);
-- Create index "customer_created_at_id" to table: "customers"
CREATE INDEX `customer_created_at_id` ON `customers` (`created_at`, `id`);
-- Create index "customer_updated_at" to table: "customers"
CREATE INDEX `customer_updated_at` ON `customers` (`updated_at`);
-- Create index "customer_bank_id_customer_number" to table: "customers"
CREATE UNIQUE INDEX `customer_bank_id_customer_number` ON `customers` (`bank_id`, `customer_number`);
-- Create index "customer_bank_id_entity_id" to table: "customers"
CREATE UNIQUE INDEX `customer_bank_id_entity_id` ON `customers` (`bank_id`, `entity_id`);
-- Create index "customer_bank_id_created_at_id" to table: "customers"
CREATE INDEX `customer_bank_id_created_at_id` ON `customers` (`bank_id`, `created_at`, `id`);
-- Create index "customer_customer_status" to table: "customers"
CREATE INDEX `customer_customer_status` ON `customers` (`customer_status`);
-- Create index "customer_customer_type" to table: "customers"
CREATE INDEX `customer_customer_type` ON `customers` (`customer_type`);
-- Create index "customer_email" to table: "customers"
CREATE INDEX `customer_email` ON `customers` (`email`);
-- Create index "customer_legal_name" to table: "customers"
CREATE INDEX `customer_legal_name` ON `customers` (`legal_name`);
-- Create index "customer_last_name" to table: "customers"
CREATE INDEX `customer_last_name` ON `customers` (`last_name`);
-- Create index "customer_customer_number" to table: "customers"
CREATE INDEX `customer_customer_number` ON `customers` (`customer_number`);
-- Create index "customer_entity_id" to table: "customers"
CREATE INDEX `customer_entity_id` ON `customers` (`entity_id`);
-- Create index "customer_date_of_birth" to table: "customers"
CREATE INDEX `customer_date_of_birth` ON `customers` (`date_of_birth`);
-- Create index "customer_branch_id" to table: "customers"
CREATE INDEX `customer_branch_id` ON `customers` (`branch_id`);
-- Create index "customer_last_ok_date" to table: "customers"
CREATE INDEX `customer_last_ok_date` ON `customers` (`last_ok_date`);
-- Create index "customer_labels" to table: "customers"
CREATE INDEX `customer_labels` ON `customers` (`labels`);
-- Create "customer_attributes" table
CREATE TABLE `customer_attributes` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `name` text NOT NULL, `type` text NOT NULL, `value` text NOT NULL, `customer_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `customer_attributes_customers_attributes` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE);
-- Create index "customerattribute_created_at_id" to table: "customer_attributes"
CREATE INDEX `customerattribute_created_at_id` ON `customer_attributes` (`created_at`, `id`);
-- Create index "customerattribute_updated_at" to table: "customer_attributes"
CREATE INDEX `customerattribute_updated_at` ON `customer_attributes` (`updated_at`);
-- Create index "customerattribute_customer_id_name" to table: "customer_attributes"
CREATE UNIQUE INDEX `customerattribute_customer_id_name` ON `customer_attributes` (`customer_id`, `name`);
-- Create index "customerattribute_customer_id_created_at_id" to table: "customer_attributes"
CREATE INDEX `customerattribute_customer_id_created_at_id` ON `customer_attributes` (`customer_id`, `created_at`, `id`);
-- Create index "customerattribute_name_value" to table: "customer_attributes"
CREATE INDEX `customerattribute_name_value` ON `customer_attributes` (`name`, `value`);
-- Create "customer_counts" table
CREATE TABLE `customer_counts` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `bank_id` uuid NOT NULL, `shard` integer NOT NULL, `n` integer NOT NULL);
-- Create index "customercount_bank_id_shard" to table: "customer_counts"
CREATE UNIQUE INDEX `customercount_bank_id_shard` ON `customer_counts` (`bank_id`, `shard`);
-- Create "customer_messages" table
CREATE TABLE `customer_messages` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `message` text NOT NULL, `transport` text NULL, `from_department` text NULL, `from_person` text NULL, `customer_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `customer_messages_customers_messages` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE);
-- Create index "customermessage_created_at_id" to table: "customer_messages"
CREATE INDEX `customermessage_created_at_id` ON `customer_messages` (`created_at`, `id`);
-- Create index "customermessage_updated_at" to table: "customer_messages"
CREATE INDEX `customermessage_updated_at` ON `customer_messages` (`updated_at`);
-- Create index "customermessage_customer_id_created_at_id" to table: "customer_messages"
CREATE INDEX `customermessage_customer_id_created_at_id` ON `customer_messages` (`customer_id`, `created_at`, `id`);
-- Create "entitlements" table
CREATE TABLE `entitlements` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `role_name` text NOT NULL, `grant_key` text NOT NULL, `api_client_id` uuid NULL, `bank_id` uuid NULL, `user_id` uuid NULL, PRIMARY KEY (`id`), CONSTRAINT `entitlements_api_clients_entitlements` FOREIGN KEY (`api_client_id`) REFERENCES `api_clients` (`id`) ON DELETE CASCADE, CONSTRAINT `entitlements_banks_entitlements` FOREIGN KEY (`bank_id`) REFERENCES `banks` (`id`) ON DELETE SET NULL, CONSTRAINT `entitlements_users_entitlements` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "entitlements_grant_key_key" to table: "entitlements"
CREATE UNIQUE INDEX `entitlements_grant_key_key` ON `entitlements` (`grant_key`);
-- Create index "entitlement_created_at_id" to table: "entitlements"
CREATE INDEX `entitlement_created_at_id` ON `entitlements` (`created_at`, `id`);
-- Create index "entitlement_updated_at" to table: "entitlements"
CREATE INDEX `entitlement_updated_at` ON `entitlements` (`updated_at`);
-- Create index "entitlement_api_client_id" to table: "entitlements"
CREATE INDEX `entitlement_api_client_id` ON `entitlements` (`api_client_id`);
-- Create index "entitlement_user_id" to table: "entitlements"
CREATE INDEX `entitlement_user_id` ON `entitlements` (`user_id`);
-- Create index "entitlement_bank_id" to table: "entitlements"
CREATE INDEX `entitlement_bank_id` ON `entitlements` (`bank_id`);
-- Create "login_failures" table
CREATE TABLE `login_failures` (`id` integer NOT NULL PRIMARY KEY AUTOINCREMENT, `account` text NOT NULL, `failures` integer NOT NULL, `locked_until` datetime NULL, `updated_at` datetime NOT NULL);
-- Create index "login_failures_account_key" to table: "login_failures"
CREATE UNIQUE INDEX `login_failures_account_key` ON `login_failures` (`account`);
-- Create index "loginfailure_updated_at" to table: "login_failures"
CREATE INDEX `loginfailure_updated_at` ON `login_failures` (`updated_at`);
-- Create "products" table
CREATE TABLE `products` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `product_code` text NOT NULL, `product_type` text NOT NULL, `currency` text NULL, `status` text NOT NULL DEFAULT ('RECEIVED'), `proxy_ids` json NULL, `iban` text NULL, `opened_on` datetime NULL, `closed_on` datetime NULL, `customer_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `products_customers_products` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE NO ACTION);
-- Create index "product_created_at_id" to table: "products"
CREATE INDEX `product_created_at_id` ON `products` (`created_at`, `id`);
-- Create index "product_updated_at" to table: "products"
CREATE INDEX `product_updated_at` ON `products` (`updated_at`);
-- Create index "product_customer_id_created_at_id" to table: "products"
CREATE INDEX `product_customer_id_created_at_id` ON `products` (`customer_id`, `created_at`, `id`);
-- Create index "product_status" to table: "products"
CREATE INDEX `product_status` ON `products` (`status`);
-- Create index "product_product_code" to table: "products"
CREATE INDEX `product_product_code` ON `products` (`product_code`);
-- Create index "product_iban" to table: "products"
CREATE INDEX `product_iban` ON `products` (`iban`);
-- Create index "product_opened_on" to table: "products"
CREATE INDEX `product_opened_on` ON `products` (`opened_on`);
-- Create "request_replays" table
CREATE TABLE `request_replays` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `caller` text NOT NULL, `key` text NOT NULL, `requestor_id` text NOT NULL, `status` integer NOT NULL, `response` blob NULL, PRIMARY KEY (`id`));
-- Create index "request_replays_key_key" to table: "request_replays"
CREATE UNIQUE INDEX `request_replays_key_key` ON `request_replays` (`key`);
-- Create index "requestreplay_created_at_id" to table: "request_replays"
CREATE INDEX `requestreplay_created_at_id` ON `request_replays` (`created_at`, `id`);
-- Create index "requestreplay_updated_at" to table: "request_replays"
CREATE INDEX `requestreplay_updated_at` ON `request_replays` (`updated_at`);
-- Create index "requestreplay_caller_created_at" to table: "request_replays"
CREATE INDEX `requestreplay_caller_created_at` ON `request_replays` (`caller`, `created_at`);
-- Create "signing_keys" table
CREATE TABLE `signing_keys` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `kid` text NOT NULL, `private_key_pem` text NOT NULL, PRIMARY KEY (`id`));
-- Create index "signing_keys_kid_key" to table: "signing_keys"
CREATE UNIQUE INDEX `signing_keys_kid_key` ON `signing_keys` (`kid`);
-- Create index "signingkey_created_at_id" to table: "signing_keys"
CREATE INDEX `signingkey_created_at_id` ON `signing_keys` (`created_at`, `id`);
-- Create index "signingkey_updated_at" to table: "signing_keys"
CREATE INDEX `signingkey_updated_at` ON `signing_keys` (`updated_at`);
-- Create "social_handles" table
CREATE TABLE `social_handles` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `type` text NOT NULL, `handle` text NOT NULL, `date_added` datetime NOT NULL, `date_activated` datetime NULL, `customer_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `social_handles_customers_social_handles` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE);
-- Create index "socialhandle_created_at_id" to table: "social_handles"
CREATE INDEX `socialhandle_created_at_id` ON `social_handles` (`created_at`, `id`);
-- Create index "socialhandle_updated_at" to table: "social_handles"
CREATE INDEX `socialhandle_updated_at` ON `social_handles` (`updated_at`);
-- Create index "socialhandle_customer_id_type_handle" to table: "social_handles"
CREATE UNIQUE INDEX `socialhandle_customer_id_type_handle` ON `social_handles` (`customer_id`, `type`, `handle`);
-- Create index "socialhandle_date_added" to table: "social_handles"
CREATE INDEX `socialhandle_date_added` ON `social_handles` (`date_added`);
-- Create index "socialhandle_customer_id_created_at_id" to table: "social_handles"
CREATE INDEX `socialhandle_customer_id_created_at_id` ON `social_handles` (`customer_id`, `created_at`, `id`);
-- Create "tax_residences" table
CREATE TABLE `tax_residences` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `domain` text NOT NULL, `tax_number` text NOT NULL, `customer_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `tax_residences_customers_tax_residences` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE);
-- Create index "taxresidence_created_at_id" to table: "tax_residences"
CREATE INDEX `taxresidence_created_at_id` ON `tax_residences` (`created_at`, `id`);
-- Create index "taxresidence_updated_at" to table: "tax_residences"
CREATE INDEX `taxresidence_updated_at` ON `tax_residences` (`updated_at`);
-- Create index "taxresidence_customer_id_domain_tax_number" to table: "tax_residences"
CREATE UNIQUE INDEX `taxresidence_customer_id_domain_tax_number` ON `tax_residences` (`customer_id`, `domain`, `tax_number`);
-- Create index "taxresidence_domain" to table: "tax_residences"
CREATE INDEX `taxresidence_domain` ON `tax_residences` (`domain`);
-- Create index "taxresidence_customer_id_created_at_id" to table: "tax_residences"
CREATE INDEX `taxresidence_customer_id_created_at_id` ON `tax_residences` (`customer_id`, `created_at`, `id`);
-- Create "users" table
CREATE TABLE `users` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `username` text NOT NULL, `email` text NULL, `display_name` text NULL, `password_hash` text NULL, `external_subject` text NULL, `disabled` bool NOT NULL DEFAULT (false), `credential_generation` integer NOT NULL DEFAULT (0), PRIMARY KEY (`id`));
-- Create index "users_username_key" to table: "users"
CREATE UNIQUE INDEX `users_username_key` ON `users` (`username`);
-- Create index "users_external_subject_key" to table: "users"
CREATE UNIQUE INDEX `users_external_subject_key` ON `users` (`external_subject`);
-- Create index "user_created_at_id" to table: "users"
CREATE INDEX `user_created_at_id` ON `users` (`created_at`, `id`);
-- Create index "user_updated_at" to table: "users"
CREATE INDEX `user_updated_at` ON `users` (`updated_at`);
-- Create "user_customer_links" table
CREATE TABLE `user_customer_links` (`id` uuid NOT NULL, `created_at` datetime NOT NULL, `updated_at` datetime NOT NULL, `bank_id` uuid NOT NULL, `is_active` bool NOT NULL DEFAULT (true), `customer_id` uuid NOT NULL, `user_id` uuid NOT NULL, PRIMARY KEY (`id`), CONSTRAINT `user_customer_links_customers_user_links` FOREIGN KEY (`customer_id`) REFERENCES `customers` (`id`) ON DELETE CASCADE, CONSTRAINT `user_customer_links_users_customer_links` FOREIGN KEY (`user_id`) REFERENCES `users` (`id`) ON DELETE CASCADE);
-- Create index "usercustomerlink_created_at_id" to table: "user_customer_links"
CREATE INDEX `usercustomerlink_created_at_id` ON `user_customer_links` (`created_at`, `id`);
-- Create index "usercustomerlink_updated_at" to table: "user_customer_links"
CREATE INDEX `usercustomerlink_updated_at` ON `user_customer_links` (`updated_at`);
-- Create index "usercustomerlink_user_id_bank_id" to table: "user_customer_links"
CREATE UNIQUE INDEX `usercustomerlink_user_id_bank_id` ON `user_customer_links` (`user_id`, `bank_id`);
-- Create index "usercustomerlink_customer_id" to table: "user_customer_links"
CREATE INDEX `usercustomerlink_customer_id` ON `user_customer_links` (`customer_id`);
