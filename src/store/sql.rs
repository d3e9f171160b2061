//! Running statements: parameters are a tuple bound in order, and every per-environment statement
//! gets the environment id as `$1` without being asked, so a query cannot forget it.

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Encode, Type};

use super::{Db, EnvStore, StoreError};

pub(super) type AnyQuery<'q> = Query<'q, Any, AnyArguments<'q>>;

/// Values for a statement's placeholders, in order.
pub(super) trait Params<'q> {
    fn bind_to(self, query: AnyQuery<'q>) -> AnyQuery<'q>;
}

impl<'q> Params<'q> for () {
    fn bind_to(self, query: AnyQuery<'q>) -> AnyQuery<'q> {
        query
    }
}

macro_rules! tuple_params {
    ($($value:ident),+) => {
        impl<'q, $($value),+> Params<'q> for ($($value,)+)
        where
            $($value: 'q + Send + Encode<'q, Any> + Type<Any>),+
        {
            #[allow(non_snake_case)]
            fn bind_to(self, query: AnyQuery<'q>) -> AnyQuery<'q> {
                let ($($value,)+) = self;
                query$(.bind($value))+
            }
        }
    };
}

tuple_params!(A);
tuple_params!(A, B);
tuple_params!(A, B, C);
tuple_params!(A, B, C, D);
tuple_params!(A, B, C, D, E);
tuple_params!(A, B, C, D, E, F);
tuple_params!(A, B, C, D, E, F, G);
tuple_params!(A, B, C, D, E, F, G, H);
tuple_params!(A, B, C, D, E, F, G, H, I);
tuple_params!(A, B, C, D, E, F, G, H, I, J);
tuple_params!(A, B, C, D, E, F, G, H, I, J, K);
tuple_params!(A, B, C, D, E, F, G, H, I, J, K, L);
tuple_params!(A, B, C, D, E, F, G, H, I, J, K, L, M);
tuple_params!(A, B, C, D, E, F, G, H, I, J, K, L, M, N);

impl<'a> EnvStore<'a> {
    /// `sql` with this environment's id as `$1` and `params` as `$2`, `$3`…
    pub(super) fn query<'q>(&self, sql: &'q str, params: impl Params<'q>) -> AnyQuery<'q>
    where
        'a: 'q,
    {
        params.bind_to(sqlx::query(sql).bind(self.env_id))
    }

    /// A write on the pool; the number of rows it changed. With an outbox, the write and its
    /// events share one transaction, and a write that changed nothing writes no event.
    pub(super) async fn execute<'q>(
        &self,
        sql: &'q str,
        params: impl Params<'q>,
    ) -> Result<u64, StoreError>
    where
        'a: 'q,
    {
        if self.outbox.is_empty() {
            let done = self.query(sql, params).execute(self.db.pool()).await?;
            return Ok(done.rows_affected());
        }
        let mut tx = self.db.begin_write().await?;
        let changed = self
            .query(sql, params)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if changed == 0 {
            tx.rollback().await?;
        } else {
            self.commit(tx).await?;
        }
        Ok(changed)
    }

    /// A single-row read on a reader connection.
    pub(super) async fn fetch_optional<'q>(
        &self,
        sql: &'q str,
        params: impl Params<'q>,
    ) -> Result<Option<AnyRow>, StoreError>
    where
        'a: 'q,
    {
        let mut connection = self.db.read_connection().await?;
        Ok(self
            .query(sql, params)
            .fetch_optional(&mut *connection)
            .await?)
    }

    pub(super) async fn fetch_all<'q>(
        &self,
        sql: &'q str,
        params: impl Params<'q>,
    ) -> Result<Vec<AnyRow>, StoreError>
    where
        'a: 'q,
    {
        Ok(self.query(sql, params).fetch_all(self.db.pool()).await?)
    }
}

impl Db {
    /// An installation-wide statement with `params` as `$1`, `$2`…
    pub(super) fn query<'q>(&self, sql: &'q str, params: impl Params<'q>) -> AnyQuery<'q> {
        params.bind_to(sqlx::query(sql))
    }
}
